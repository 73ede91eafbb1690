// Fleet bench: N simulated devices (light clients with real mTLS WebSockets, in worker processes) against one
// `plugsrv-fleet serve`: enrollments per second, connection time, CPU and RSS while every device heartbeats every
// 30 s, and the delivery latency of a lock sent to all of them. CPU and RSS are also measured, with the same
// devices, against a bare mTLS WebSocket server that only parses JSON (bench/fleet/reference.ts): the ratio is the
// price of the fleet's work (DB, state, signing) over the transport itself.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EnrollResponse } from '../../lib/fleet/protocol.js';
import { packageRoot } from '../../lib/package-root.js';
import { inventoryOf, makeDeviceKey, type DeviceKey } from '../../test/helpers/fleet-device.js';
import { api, createKey, startFleet, type FleetProcess } from '../../test/helpers/fleet-process.js';
import { cpuSeconds, statusBytes } from '../serve/procfs.js';
import type { DeviceCredentials, WorkerReport, WorkerSpec } from './devices.js';

const DEVICES = Number(process.env.FLEET_BENCH_DEVICES ?? 5000);
const WORKERS = Number(process.env.FLEET_BENCH_WORKERS ?? 2);
const HEARTBEAT_S = 30;
/** Steady-state window measured per server: two heartbeat periods. */
const WINDOW_S = Number(process.env.FLEET_BENCH_WINDOW_S ?? 2 * HEARTBEAT_S);
const CONCURRENCY = 32;
const dist = join(packageRoot(), 'dist', 'bench', 'fleet');

async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) out[i] = await fn(i);
    }),
  );
  return out;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; s: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, s: (performance.now() - start) / 1000 };
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

interface Phase {
  connectS: number;
  connected: number;
  cpuPerCore: number;
  rssBytes: number;
  heartbeatsPerS: number;
  workers: ChildProcess[];
  reports: WorkerReport[];
}

/** Starts the device workers against `socketUrl`, waits until all connected, then measures `pid` over the window. */
async function runDevices(socketUrl: string, ca: string, commandKey: string, files: string[], pid: number, teardowns: Array<() => unknown>): Promise<Phase> {
  const reports: WorkerReport[] = [];
  const workers = files.map((devicesFile) => {
    const spec: WorkerSpec = { socketUrl, ca, commandKey, heartbeatSeconds: HEARTBEAT_S, connectConcurrency: 48, devicesFile };
    const w = fork(join(dist, 'devices.js'), [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    w.on('message', (m: WorkerReport) => reports.push(m));
    teardowns.push(() => w.kill('SIGKILL'));
    return w;
  });
  const start = performance.now();
  const connected = () => reports.filter((r) => r.type === 'connected') as Array<Extract<WorkerReport, { type: 'connected' }>>;
  while (connected().length < workers.length) await sleep(200);
  const connectS = (performance.now() - start) / 1000;
  const ok = connected().reduce((n, r) => n + r.count, 0);
  const cpu0 = cpuSeconds(pid);
  const b0 = heartbeatsSent(reports);
  await sleep(WINDOW_S * 1000);
  const cpu1 = cpuSeconds(pid);
  const b1 = heartbeatsSent(reports);
  return { connectS, connected: ok, cpuPerCore: (cpu1 - cpu0) / WINDOW_S, rssBytes: statusBytes(pid, 'VmRSS'), heartbeatsPerS: (b1 - b0) / WINDOW_S, workers, reports };
}

/** Heartbeats sent so far, from the latest count each worker reported. */
function heartbeatsSent(reports: WorkerReport[]): number {
  let total = 0;
  const seen = new Set<number>();
  for (let i = reports.length - 1; i >= 0; i--) {
    const r = reports[i]!;
    if (r.type === 'heartbeats' && !seen.has(r.worker)) {
      seen.add(r.worker);
      total += r.sent;
    }
  }
  return total;
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.exitCode !== null) return resolve();
          w.once('exit', () => resolve());
          w.send({ type: 'stop' });
          setTimeout(() => w.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
}

async function main(): Promise<void> {
  const teardowns: Array<() => unknown> = [];
  const dir = await mkdtemp(join(tmpdir(), 'plugsrv-bench-fleet-'));
  teardowns.push(() => rm(dir, { recursive: true, force: true }));
  try {
    console.log(`fleet bench: ${DEVICES} devices in ${WORKERS} worker processes, heartbeat every ${HEARTBEAT_S} s, window ${WINDOW_S} s; ${cpus().length} cores`);
    const fleetDir = join(dir, 'fleet');
    const key = await createKey(fleetDir, 'admin', 'bench');
    const fleet: FleetProcess = await startFleet(fleetDir, [], { PLUGSRV_FLEET_ENROLL_RATE_BURST: '1000000', PLUGSRV_FLEET_ENROLL_RATE_PER_MINUTE: '1000000', PLUGSRV_FLEET_LOG_LEVEL: 'info' });
    teardowns.push(() => fleet.kill());
    const dealer = (i: number) => String(10_000_000 + (i % 400)).padStart(8, '0');

    const tokens = await timed(() =>
      pool(DEVICES, CONCURRENCY, async (i) => {
        const r = await api(fleet, 'POST', '/v1/tokens', { key, body: { dealerCode: dealer(i), serial: `BENCH${i}`, expiresInHours: 2 } });
        if (r.status !== 201) throw new Error(`token ${i}: ${r.status} ${r.text}`);
        return (r.json as { token: string }).token;
      }),
    );
    console.log(`  tokens minted:     ${(DEVICES / tokens.s).toFixed(0)}/s (${tokens.s.toFixed(1)} s)`);
    const keys = await timed(() => pool<DeviceKey>(DEVICES, 8, () => makeDeviceKey()));
    console.log(`  device keys+CSRs:  ${(DEVICES / keys.s).toFixed(0)}/s on the client side (${keys.s.toFixed(1)} s)`);
    const cpuBeforeEnroll = cpuSeconds(fleet.child.pid!);
    const enrolled = await timed(() =>
      pool(DEVICES, CONCURRENCY, async (i) => {
        const r = await api(fleet, 'POST', '/v1/enroll', { body: { token: tokens.value[i], serial: `BENCH${i}`, csr: keys.value[i]!.csrPem, inventory: inventoryOf(`BENCH${i}`) } });
        if (r.status !== 201) throw new Error(`enroll ${i}: ${r.status} ${r.text}`);
        return r.json as EnrollResponse;
      }),
    );
    const enrollCpu = cpuSeconds(fleet.child.pid!) - cpuBeforeEnroll;
    console.log(`  enrollments:       ${(DEVICES / enrolled.s).toFixed(0)}/s (${enrolled.s.toFixed(1)} s, ${CONCURRENCY} in flight, one TLS handshake each), fleet CPU ${((enrollCpu / DEVICES) * 1000).toFixed(1)} ms per enrollment`);

    const first = enrolled.value[0]!;
    const creds: DeviceCredentials[] = enrolled.value.map((e, i) => ({ deviceId: e.deviceId, certificate: e.certificate, key: keys.value[i]!.keyPem }));
    const files: string[] = [];
    for (let w = 0; w < WORKERS; w++) {
      const file = join(dir, `devices-${w}.json`);
      await writeFile(file, JSON.stringify(creds.filter((_, i) => i % WORKERS === w)));
      files.push(file);
    }

    // Reference: the bare mTLS WebSocket server with the same certificates and devices.
    const ref = fork(join(dist, 'reference.js'), [join(fleetDir, 'ca')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    teardowns.push(() => ref.kill('SIGKILL'));
    const refPort = await new Promise<number>((resolve) => ref.once('message', (m: { port: number }) => resolve(m.port)));
    const refPhase = await runDevices(`wss://127.0.0.1:${refPort}/v1/device/ws`, fleet.rootCa, first.commandKey, files, ref.pid!, teardowns);
    await stopWorkers(refPhase.workers);
    ref.send({ type: 'stop' });
    console.log(`  reference (bare mTLS ws): ${refPhase.connected} connected in ${refPhase.connectS.toFixed(1)} s; CPU ${(refPhase.cpuPerCore * 100).toFixed(1)}% of a core; RSS ${(refPhase.rssBytes / 2 ** 20).toFixed(0)} MiB; ${refPhase.heartbeatsPerS.toFixed(0)} heartbeats/s`);

    const fleetPid = fleet.child.pid!;
    await api(fleet, 'GET', '/v1/stats?reset=true', { key });
    const phase = await runDevices(first.socketUrl, fleet.rootCa, first.commandKey, files, fleetPid, teardowns);
    const stats = (await api(fleet, 'GET', '/v1/stats?reset=true', { key })).json as { connected: number; eventLoop: { p50Ms: number; p99Ms: number; maxMs: number }; heartbeats: Record<string, number>; writes: Record<string, number> };
    console.log(`  fleet:             ${phase.connected} connected in ${phase.connectS.toFixed(1)} s (fleet sees ${stats.connected}); CPU ${(phase.cpuPerCore * 100).toFixed(1)}% of a core; RSS ${(phase.rssBytes / 2 ** 20).toFixed(0)} MiB; ${phase.heartbeatsPerS.toFixed(0)} heartbeats/s; event loop p99 ${stats.eventLoop.p99Ms.toFixed(1)} ms`);
    console.log(`  ratio fleet/reference: CPU ${(phase.cpuPerCore / refPhase.cpuPerCore).toFixed(2)}x, RSS ${(phase.rssBytes / refPhase.rssBytes).toFixed(2)}x`);

    // A lock to every device at once: latency from the operator's request to each device's receipt.
    const t0 = Date.now();
    const sent = await api(fleet, 'POST', '/v1/commands', { key, body: { kind: 'lock', args: { reason: 'bench: lock all' }, target: { all: true } } });
    if (sent.status !== 201) throw new Error(`lock all: ${sent.status} ${sent.text}`);
    const apiMs = Date.now() - t0;
    const received = () => phase.reports.filter((r) => r.type === 'command' && r.kind === 'lock') as Array<Extract<WorkerReport, { type: 'command' }>>;
    const deadline = Date.now() + 180_000;
    while (received().length < phase.connected && Date.now() < deadline) await sleep(100);
    const lat = received().map((r) => r.at - t0).sort((a, b) => a - b);
    const invalid = received().filter((r) => !r.valid).length;
    let okResults = 0;
    while (Date.now() < deadline) {
      const s = (await api(fleet, 'GET', '/v1/stats', { key })).json as { commands: { byState: Record<string, number> } };
      okResults = s.commands.byState.ok ?? 0;
      if (okResults >= phase.connected) break;
      await sleep(200);
    }
    const allResultsMs = Date.now() - t0;
    console.log(`  lock to all:       API answered in ${apiMs} ms; received by ${lat.length}/${phase.connected} (${invalid} failed verification); latency p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${lat.at(-1)} ms; ${okResults} ok results recorded after ${allResultsMs} ms`);
    await stopWorkers(phase.workers);
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
