// Prometheus metrics of the serve role, in a registry of its own (no global state).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServeMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'status'>;
  readonly bytesServed: Counter;
  readonly activeDownloads: Gauge;
  readonly errors: Counter<'code'>;
}

export function createServeMetrics(): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'plugsrv_' });
  return {
    registry,
    requests: new Counter({
      name: 'plugsrv_http_requests_total',
      help: 'HTTP requests answered, by route and status code.',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    bytesServed: new Counter({ name: 'plugsrv_bytes_served_total', help: 'Package body bytes sent to clients.', registers: [registry] }),
    activeDownloads: new Gauge({ name: 'plugsrv_active_downloads', help: 'Package downloads in progress.', registers: [registry] }),
    errors: new Counter({
      name: 'plugsrv_errors_total',
      help: 'Requests answered with an error, by error code.',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
  };
}
