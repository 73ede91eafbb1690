// One HTTP request for one span of the target: status and framing checks, then the body streamed to a sink, never past the span.
import type { Dispatcher } from 'undici';
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
  dispatcher: Dispatcher;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  signal: AbortSignal;
  clock: () => number;
}

export interface BodySink {
  /** Sees the response's validator before any byte is written; throws RestartFromZero when the file changed. */
  onValidator(validator: Validator | undefined): void;
  /** Writes the next bytes of the span. */
  write(chunk: Buffer): Promise<void>;
}

type Headers = Dispatcher.ResponseData['headers'];

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function discard(body: Dispatcher.ResponseData['body']): void {
  body.dump({ limit: 64 * 1024 }).catch(() => {});
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
function checkResponse(req: RangeRequest, res: Dispatcher.ResponseData, now: number): number {
  const kind = classifyStatus(res.statusCode);
  const whole = req.span.start === 0 && req.span.end === req.size;
  if (kind === 'retry') {
    const retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after'), now);
    throw new TransferFault(`HTTP ${res.statusCode} from ${displayUrl(req.url)}`, retryAfterMs);
  }
  if (kind === 'fatal') throw refusal(req, res.statusCode);
  if (kind === 'full' && !whole) {
    throw new RestartFromZero(`the origin answered 200 (the whole file) to a request for bytes ${req.span.start}-${req.span.end - 1}`);
  }
  const total = announcedTotal(kind, header(res.headers, 'content-length'), header(res.headers, 'content-range'));
  if (total !== undefined && total > req.size) {
    // Longer than signed: retried like any bad framing (a proxy glitch), but if it persists the origin does not hold the signed target.
    throw new TransferFault(
      `${displayUrl(req.url)} announces ${total} bytes for a target signed as ${req.size} bytes: not the signed package, nothing of it was stored`,
      undefined,
      ErrorCode.SIZE_MISMATCH,
    );
  }
  const problem = framingProblem({ status: kind, span: req.span, size: req.size, contentLength: header(res.headers, 'content-length'), contentRange: header(res.headers, 'content-range') });
  if (problem !== undefined) throw new TransferFault(`${problem} from ${displayUrl(req.url)}`);
  return req.span.end - req.span.start;
}

async function pumpBody(req: RangeRequest, body: AsyncIterable<Buffer>, want: number, sink: BodySink): Promise<void> {
  let got = 0;
  for await (const chunk of body) {
    if (got + chunk.length > want) {
      throw new AgentError(
        ErrorCode.SIZE_MISMATCH,
        `${displayUrl(req.url)} sent more than the ${want} bytes asked for (bytes ${req.span.start}-${req.span.end - 1} of a signed ${req.size}-byte package); the transfer was cut and the extra bytes discarded. The origin is misbehaving or hostile.`,
        { details: { url: displayUrl(req.url), expected: want } },
      );
    }
    got += chunk.length;
    await sink.write(chunk);
  }
  if (got < want) throw new TransferFault(`the body ended after ${got} of ${want} bytes`);
}

/** Fetches `req.span` into `sink`. Throws TransferFault (retry), RestartFromZero, AgentError (final), or the network error. */
export async function fetchRange(req: RangeRequest, opts: RequestOptions, sink: BodySink): Promise<void> {
  const res = await opts.dispatcher.request({
    origin: req.url.origin,
    path: `${req.url.pathname}${req.url.search}`,
    method: 'GET',
    headers: rangeHeaders(req.span.start, req.span.end, req.size, req.validator),
    headersTimeout: opts.headersTimeoutMs,
    bodyTimeout: opts.bodyTimeoutMs,
    signal: opts.signal,
  });
  let want: number;
  try {
    want = checkResponse(req, res, opts.clock());
    sink.onValidator(validatorOf(header(res.headers, 'etag'), header(res.headers, 'last-modified')));
  } catch (err) {
    discard(res.body);
    throw err;
  }
  await pumpBody(req, res.body, want, sink);
}
