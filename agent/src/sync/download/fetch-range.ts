// One HTTP request for one span of the target: status and framing checks, then the body streamed to a sink, never past the span.
import type { Dispatcher } from 'undici';
import type { BodyDispatcher } from './dispatcher.js';
import { AgentError, ErrorCode } from '../../errors.js';
import { RestartFromZero, TransferFault, downloadFailed } from './faults.js';
import { classifyStatus, displayUrl, framingProblem, parseContentRange, parseRetryAfter, rangeHeaders, validatorOf, type ByteSpan, type Validator } from './policy.js';

export interface RangeRequest {
  url: URL;
  /** The whole target's signed size. */
  size: number;
  /** The bytes wanted now: from the segment's resume offset to its end. */
  span: ByteSpan;
  validator?: Validator;
}

export interface RequestOptions {
  dispatcher: BodyDispatcher;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  signal: AbortSignal;
  clock: () => number;
}

export interface BodySink {
  /** Sees the response's validator before any byte is written; throws RestartFromZero when the file changed. */
  onValidator(validator: Validator | undefined): void;
  /**
   * Takes the next bytes of the span (a view the HTTP client may reuse once this returns: copy what must outlive
   * the call): undefined when it took them at once, or a promise to wait for before the
   * next ones (the response is paused meanwhile: backpressure down to the socket). Throws on a final failure.
   */
  write(chunk: Buffer): Promise<void> | undefined;
}

type Headers = Record<string, string | string[] | undefined>;

/** An error response's body is read (to keep the connection) up to this much; past it the connection is dropped. */
const DISCARD_LIMIT = 64 * 1024;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function refusal(req: RangeRequest, status: number): AgentError {
  const where = displayUrl(req.url);
  const hint =
    status === 404 || status === 410
      ? 'the package is not (or no longer) on the origin; check the catalog entry or ask the publisher'
      : status === 401 || status === 403
        ? 'the origin refused access; check the device credentials or the signed URL (it may have expired)'
        : status === 416
          ? 'the origin file is shorter than the signed size; the package on the origin is not the one that was signed'
          : 'the origin refused the request; this will not fix itself by retrying';
  return downloadFailed(`GET ${where} answered HTTP ${status}: ${hint}.`, { url: where, status });
}

/** The whole file's size as the origin announces it: Content-Length of a 200, the total of a 206's Content-Range. */
function announcedTotal(kind: string, contentLength: string | undefined, contentRange: string | undefined): number | undefined {
  if (kind === 'full') return contentLength !== undefined && /^\d+$/.test(contentLength) ? Number(contentLength) : undefined;
  return parseContentRange(contentRange)?.total;
}

/** Checks the status and framing; returns the number of body bytes to expect. */
function checkResponse(req: RangeRequest, statusCode: number, headers: Headers, now: number): number {
  const kind = classifyStatus(statusCode);
  const whole = req.span.start === 0 && req.span.end === req.size;
  if (kind === 'retry') {
    const retryAfterMs = parseRetryAfter(header(headers, 'retry-after'), now);
    throw new TransferFault(`HTTP ${statusCode} from ${displayUrl(req.url)}`, retryAfterMs);
  }
  if (kind === 'fatal') throw refusal(req, statusCode);
  if (kind === 'full' && !whole) {
    throw new RestartFromZero(`the origin answered 200 (the whole file) to a request for bytes ${req.span.start}-${req.span.end - 1}`);
  }
  const total = announcedTotal(kind, header(headers, 'content-length'), header(headers, 'content-range'));
  if (total !== undefined && total > req.size) {
    // Longer than signed: retried like any bad framing (a proxy glitch), but if it persists the origin does not hold the signed target.
    throw new TransferFault(
      `${displayUrl(req.url)} announces ${total} bytes for a target signed as ${req.size} bytes: not the signed package, nothing of it was stored`,
      undefined,
      ErrorCode.SIZE_MISMATCH,
    );
  }
  const problem = framingProblem({ status: kind, span: req.span, size: req.size, contentLength: header(headers, 'content-length'), contentRange: header(headers, 'content-range') });
  if (problem !== undefined) throw new TransferFault(`${problem} from ${displayUrl(req.url)}`);
  return req.span.end - req.span.start;
}

function overLength(req: RangeRequest, want: number): AgentError {
  return new AgentError(
    ErrorCode.SIZE_MISMATCH,
    `${displayUrl(req.url)} sent more than the ${want} bytes asked for (bytes ${req.span.start}-${req.span.end - 1} of a signed ${req.size}-byte package); the transfer was cut and the extra bytes discarded. The origin is misbehaving or hostile.`,
    { details: { url: displayUrl(req.url), expected: want } },
  );
}

/**
 * Fetches `req.span` into `sink`. Throws TransferFault (retry), RestartFromZero, AgentError (final), the
 * network error, or the signal's reason. Uses a dispatch handler (undici's interface, which Http1Client also
 * implements for plain HTTP), not request()'s body stream:
 * each chunk goes from the HTTP parser to the sink with no stream in between (a third of the main thread's
 * work per byte at LAN speed), and the parser pauses while the sink asks to wait.
 */
export function fetchRange(req: RangeRequest, opts: RequestOptions, sink: BodySink): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    /** Set when the response was refused at its start: its body is read and thrown away, then this is thrown. */
    let refused: unknown;
    let discarded = 0;
    let want = 0;
    let got = 0;
    let waiting: Promise<void> | undefined;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      opts.signal.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      finish(err);
      if (controller && !controller.aborted) controller.abort(err instanceof Error ? err : new Error(String(err)));
    };
    function onAbort(): void {
      fail(opts.signal.reason);
    }
    if (opts.signal.aborted) {
      reject(opts.signal.reason);
      return;
    }
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (settled) c.abort(new Error('aborted'));
      },
      onResponseStart(_c, statusCode, headers) {
        if (settled || statusCode < 200) return; // 1xx: the real status follows
        try {
          want = checkResponse(req, statusCode, headers, opts.clock());
          sink.onValidator(validatorOf(header(headers, 'etag'), header(headers, 'last-modified')));
        } catch (err) {
          refused = err;
        }
      },
      onResponseData(c, chunk) {
        // undici hands an empty chunk to a resumed parser: taking it as data to wait for would resume it again at once, forever.
        if (settled || chunk.length === 0) return;
        if (refused !== undefined) {
          discarded += chunk.length;
          if (discarded > DISCARD_LIMIT) fail(refused);
          return;
        }
        if (got + chunk.length > want) {
          fail(overLength(req, want));
          return;
        }
        got += chunk.length;
        let pending: Promise<void> | undefined;
        try {
          pending = sink.write(chunk);
        } catch (err) {
          fail(err);
          return;
        }
        if (!pending) return;
        c.pause();
        waiting = pending.then(
          () => {
            waiting = undefined;
            if (!settled) c.resume();
          },
          (err: unknown) => fail(err),
        );
      },
      onResponseEnd() {
        if (settled) return;
        if (refused !== undefined) {
          finish(refused);
          return;
        }
        void (waiting ?? Promise.resolve()).then(() => {
          if (got < want) fail(new TransferFault(`the body ended after ${got} of ${want} bytes`));
          else finish();
        });
      },
      onResponseError(_c, err) {
        fail(refused ?? err);
      },
    };
    try {
      opts.dispatcher.dispatch(
        {
          origin: req.url.origin,
          path: `${req.url.pathname}${req.url.search}`,
          method: 'GET',
          headers: rangeHeaders(req.span.start, req.span.end, req.size, req.validator),
          headersTimeout: opts.headersTimeoutMs,
          bodyTimeout: opts.bodyTimeoutMs,
        },
        handler,
      );
    } catch (err) {
      fail(err);
    }
  });
}
