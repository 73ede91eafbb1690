// Evaluates conditional request headers (RFC 9110 section 13.2.2) for a resource with a strong ETag and a Last-Modified date.

export interface Validators {
  /** The strong entity tag, quoted: `"<sha256>"`. */
  etag: string;
  /** Last-Modified, in milliseconds (compared at one-second resolution, as HTTP dates are). */
  lastModified: number;
}

export type Precondition = 'proceed' | 'not-modified' | 'precondition-failed';

interface Headers {
  'if-match'?: string | undefined;
  'if-none-match'?: string | undefined;
  'if-modified-since'?: string | undefined;
  'if-unmodified-since'?: string | undefined;
  'if-range'?: string | undefined;
}

function entityTags(header: string): string[] {
  return header.split(',').map((t) => t.trim()).filter((t) => t !== '');
}

function stripWeak(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function parseHttpDate(value: string): number | undefined {
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** The RFC 9110 evaluation order for GET and HEAD: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since. */
export function evaluatePreconditions(h: Headers, v: Validators): Precondition {
  if (h['if-match'] !== undefined) {
    const tags = entityTags(h['if-match']);
    // If-Match uses the strong comparison: a weak tag never matches.
    if (!tags.includes('*') && !tags.includes(v.etag)) return 'precondition-failed';
  } else if (h['if-unmodified-since'] !== undefined) {
    const since = parseHttpDate(h['if-unmodified-since']);
    if (since !== undefined && seconds(v.lastModified) > seconds(since)) return 'precondition-failed';
  }
  if (h['if-none-match'] !== undefined) {
    const tags = entityTags(h['if-none-match']);
    // If-None-Match uses the weak comparison.
    if (tags.includes('*') || tags.some((t) => stripWeak(t) === v.etag)) return 'not-modified';
  } else if (h['if-modified-since'] !== undefined) {
    const since = parseHttpDate(h['if-modified-since']);
    if (since !== undefined && seconds(v.lastModified) <= seconds(since)) return 'not-modified';
  }
  return 'proceed';
}

/** If-Range: the Range applies only when the validator matches exactly (strong ETag, or the exact Last-Modified date). */
export function ifRangeAllows(ifRange: string | undefined, v: Validators): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === v.etag;
  const date = parseHttpDate(value);
  return date !== undefined && seconds(date) === seconds(v.lastModified);
}
