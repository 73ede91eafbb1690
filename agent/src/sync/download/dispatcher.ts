// The downloader's connection pools: plain HTTP through our own kept-alive client, HTTPS through undici.
import type { Agent, Dispatcher } from 'undici';
import { Http1Client, type GetOptions } from './http1-client.js';

/** What fetchRange needs of a dispatcher: undici's dispatch with the new handler API. */
export interface BodyDispatcher {
  dispatch(options: GetOptions & Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
}

/** Stands for the request when undici could not even be loaded: nothing to pause or abort. */
const nothingStarted: Dispatcher.DispatchController = { aborted: false, paused: false, reason: null, abort() {}, pause() {}, resume() {} };

/**
 * One pool per run or per command. `connections` holds per origin in each of the two clients. Plain-HTTP
 * origins (the LAN box, the bench's and tests' loopback origins) are where the client is CPU-bound, and there
 * Http1Client's body path costs less than half of undici's user CPU; HTTPS origins (the carmaker's cloud) are
 * bound by the internet link and keep undici's TLS. undici is loaded on the first HTTPS request only (0.16 s of
 * a command's start otherwise).
 */
export class DownloadDispatcher implements BodyDispatcher {
  private readonly plain: Http1Client;
  private tls: Promise<Agent> | undefined;

  constructor(private readonly connections: number) {
    this.plain = new Http1Client({ connections });
  }

  dispatch(options: GetOptions & Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = typeof options.origin === 'string' ? options.origin : String(options.origin);
    if (origin.startsWith('http:')) return this.plain.dispatch(options, handler);
    this.tls ??= import('undici').then(({ Agent }) => new Agent({ connections: this.connections }));
    const failed = (err: unknown): void => handler.onResponseError?.(nothingStarted, err instanceof Error ? err : new Error(String(err)));
    // Should undici throw rather than call the handler (it reports refused options through onResponseError), the
    // error still reaches the handler: thrown inside this promise it would become an unhandled rejection.
    this.tls.then((agent) => {
      try {
        agent.dispatch(options, handler);
      } catch (err) {
        failed(err);
      }
    }, failed);
    return true;
  }

  /** Ends every connection. Callers settle their downloads first, so nothing in flight is cut short. */
  async destroy(): Promise<void> {
    await Promise.all([this.plain.destroy(), this.tls?.then((agent) => agent.destroy())]);
  }
}
