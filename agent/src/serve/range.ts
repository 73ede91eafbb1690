// Parses a Range header against a resource size (RFC 9110 section 14): one byte range, suffix or open-ended.

export type RangeDecision =
  /** No Range header, or one we ignore (another unit, several ranges): send the whole body with 200. */
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  /** A bytes range that cannot be served: 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' };

const SPEC = /^(\d*)-(\d*)$/;

export function parseRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const eq = header.indexOf('=');
  if (eq < 0) return { kind: 'full' };
  // Units other than bytes are ignored, as RFC 9110 requires.
  if (header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'full' };
  const specs = header.slice(eq + 1).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0) return { kind: 'unsatisfiable' };
  // Several ranges would need multipart/byteranges; the RFC lets a server ignore them and send 200.
  if (specs.length > 1) return { kind: 'full' };
  const m = SPEC.exec(specs[0] as string);
  if (!m) return { kind: 'unsatisfiable' };
  const [, first, last] = m as unknown as [string, string, string];
  if (first === '' && last === '') return { kind: 'unsatisfiable' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  // Digits only (the pattern above), so Number() is exact or, for absurd values, larger than any size.
  const start = Number(first);
  if (start >= size) return { kind: 'unsatisfiable' };
  if (last === '') return { kind: 'partial', start, end: size - 1 };
  const end = Number(last);
  if (end < start) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
