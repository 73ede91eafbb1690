// Pure download policy: segment planning, backoff with full jitter, Retry-After, status and Content-Range checks.

/** A byte range of the target: `start` inclusive, `end` exclusive. */
export interface ByteSpan {
  start: number;
  end: number;
}

/**
 * Splits `size` bytes into segments fetched in parallel. A target up to 2 x `segmentBytes` is one
 * segment; a larger one gets ceil(size / segmentBytes) segments, at most `maxSegments`, of near-equal length,
 * but always enough that none is longer than `maxSegmentBytes` (they are then fetched in order, `maxSegments`
 * at a time, so the written prefix from byte 0, which the hash follows, trails the download by a few segments).
 * With `align`, the boundaries between segments fall on its multiples (O_DIRECT writes; see buffers.ts).
 */
export function planSegments(size: number, segmentBytes: number, maxSegments: number, maxSegmentBytes = Infinity, align = 1): ByteSpan[] {
  if (size <= 2 * segmentBytes || maxSegments <= 1) return [{ start: 0, end: size }];
  const count = Math.max(Math.min(Math.ceil(size / segmentBytes), Math.floor(maxSegments)), Math.ceil(size / maxSegmentBytes));
  const base = Math.floor(size / count);
  const extra = size % count;
  // Inner boundaries on multiples of `align` when segments are long enough (they stay strictly increasing).
  const unit = align > 1 && base >= align ? align : 1;
  const out: ByteSpan[] = [];
  let start = 0;
  let exact = 0;
  for (let i = 0; i < count; i++) {
    exact += base + (i < extra ? 1 : 0);
    const end = i === count - 1 ? size : exact - (exact % unit);
    out.push({ start, end });
    start = end;
  }
  return out;
}

/** Exponential backoff with full jitter: a uniform wait in [0, min(maxMs, baseMs * 2^(failures-1))). */
export function backoffMs(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * ceiling);
}

/** The wait a `Retry-After` header asks for (delta-seconds or an HTTP date), in ms; undefined when absent or invalid. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** The wait before the next try: the server's Retry-After (capped) when it sent one, else jittered backoff. */
export function retryDelayMs(input: { failures: number; retryAfterMs?: number; baseMs: number; maxMs: number; retryAfterCapMs: number; random: () => number }): number {
  if (input.retryAfterMs !== undefined) return Math.min(input.retryAfterMs, input.retryAfterCapMs);
  return backoffMs(input.failures, input.baseMs, input.maxMs, input.random);
}

/** What a response status means for a download: bytes to read, a transient fault to retry, or a final refusal. */
export type StatusClass = 'partial' | 'full' | 'retry' | 'fatal';

export function classifyStatus(status: number): StatusClass {
  if (status === 206) return 'partial';
  if (status === 200) return 'full';
  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) return 'retry';
  return 'fatal';
}

/** `bytes a-b/total` as numbers (`total` undefined for `*`), or undefined when malformed. */
export function parseContentRange(value: string | undefined): { first: number; last: number; total?: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  const [, first, last, total] = m as unknown as [string, string, string, string];
  return { first: Number(first), last: Number(last), total: total === '*' ? undefined : Number(total) };
}

/**
 * Why a response's framing does not fit the bytes requested, or undefined when it does.
 * `span` is what was asked for; a 206 must say exactly that range of a `size`-byte file.
 */
export function framingProblem(input: { status: 'partial' | 'full'; span: ByteSpan; size: number; contentLength?: string; contentRange?: string }): string | undefined {
  const want = input.status === 'full' ? input.size : input.span.end - input.span.start;
  if (input.contentLength !== undefined && Number(input.contentLength) !== want) {
    return `Content-Length ${input.contentLength} where ${want} bytes were expected`;
  }
  if (input.status === 'full') return undefined;
  const cr = parseContentRange(input.contentRange);
  if (!cr) return `206 without a usable Content-Range (${input.contentRange ?? 'none'})`;
  if (cr.first !== input.span.start || cr.last !== input.span.end - 1 || (cr.total !== undefined && cr.total !== input.size)) {
    return `Content-Range "${input.contentRange}" where bytes ${input.span.start}-${input.span.end - 1}/${input.size} were asked for`;
  }
  return undefined;
}

/** The validator an origin gave, usable in If-Range: a strong ETag, else Last-Modified. */
export interface Validator {
  etag?: string;
  lastModified?: string;
}

export function validatorOf(etag: string | undefined, lastModified: string | undefined): Validator | undefined {
  if (etag !== undefined && !etag.startsWith('W/')) return { etag };
  if (lastModified !== undefined) return { lastModified };
  return undefined;
}

/** True when a response's validator says the file is not the one the recorded validator named. */
export function validatorChanged(recorded: Validator | undefined, seen: Validator | undefined): boolean {
  if (!recorded || !seen) return false;
  if (recorded.etag !== undefined && seen.etag !== undefined) return recorded.etag !== seen.etag;
  if (recorded.lastModified !== undefined && seen.lastModified !== undefined) return recorded.lastModified !== seen.lastModified;
  return false;
}

/** Request headers for the bytes `from`..`end` of a `size`-byte file; no Range when the whole file is wanted. */
export function rangeHeaders(from: number, end: number, size: number, validator: Validator | undefined): Record<string, string> {
  if (from === 0 && end === size) return {};
  const headers: Record<string, string> = { range: `bytes=${from}-${end - 1}` };
  const v = validator?.etag ?? validator?.lastModified;
  if (v !== undefined) headers['if-range'] = v;
  return headers;
}

/** The URL without its query or credentials, safe to log (signed URLs carry tokens in the query). */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
