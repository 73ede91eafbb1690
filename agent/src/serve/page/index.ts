// The status page served at `/`: reads status.html once, and derives its ETag and a strict Content-Security-Policy that allows its inline style and script by hash only.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../../../lib/package-root.js';

/** tsc does not copy non-TS files, so the page is read from the sources, from `src/` or `dist/` alike. */
export const STATUS_PAGE_FILE = join(packageRoot(), 'agent', 'src', 'serve', 'page', 'status.html');

export interface StatusPage {
  body: Buffer;
  /** Strong ETag, quoted. */
  etag: string;
  headers: Record<string, string | number>;
}

function sha256Source(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The text of every inline `<tag>...</tag>` element, exactly as the browser hashes it. */
function inlineBlocks(html: string, tag: 'script' | 'style'): string[] {
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  return [...html.matchAll(re)].map((m) => m[1] ?? '');
}

/** Builds the response for a page: no external source of any kind, inline code allowed only by its hash. */
export function statusPageFrom(html: string): StatusPage {
  const scripts = inlineBlocks(html, 'script').map(sha256Source);
  const styles = inlineBlocks(html, 'style').map(sha256Source);
  const csp = [
    "default-src 'self'",
    `script-src ${scripts.join(' ') || "'none'"}`,
    `style-src ${styles.join(' ') || "'none'"}`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const body = Buffer.from(html, 'utf8');
  const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
  return {
    body,
    etag,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': body.length,
      'Cache-Control': 'no-cache',
      ETag: etag,
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    },
  };
}

export async function loadStatusPage(file = STATUS_PAGE_FILE): Promise<StatusPage> {
  return statusPageFrom(await readFile(file, 'utf8'));
}
