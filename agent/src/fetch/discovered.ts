// Pure: which plugsrv box `plugsrv fetch` uses when it found them with DNS-SD, and how they are listed.
import type { DiscoveredBox } from '../discovery/index.js';
import { AgentError, ErrorCode } from '../errors.js';

/** One line per box: name, URL, version, serial and dealer code when the box gives them. */
export function formatBoxes(boxes: readonly DiscoveredBox[]): string {
  if (boxes.length === 0) return 'no plugsrv box answered';
  const rows = [['NAME', 'URL', 'VERSION', 'SERIAL', 'DEALER'], ...boxes.map((b) => [b.name, b.url, b.version ?? '-', b.serial ?? '-', b.dealer ?? '-'])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

/** What to say when no box answered within `timeoutMs`. */
export function noBoxError(timeoutMs: number): AgentError {
  return new AgentError(
    ErrorCode.NO_SERVER,
    `no plugsrv box answered on the LAN within ${(timeoutMs / 1000).toFixed(1)} s (DNS-SD, _plugsrv._tcp). Give its address with --server http://ADDRESS:8080 (shown on the box's status page), ` +
      'or check that this PC is on the dealer LAN (DNS-SD does not cross routers or VPNs), that the box is on, and that this PC\'s firewall lets UDP port 5353 (mDNS) in; --discover-timeout waits longer.',
  );
}

/** The one box that answered; several or none are errors that say what to do. */
export function chooseBox(boxes: readonly DiscoveredBox[], timeoutMs: number): DiscoveredBox {
  if (boxes.length === 1) return boxes[0]!;
  if (boxes.length === 0) throw noBoxError(timeoutMs);
  throw new AgentError(
    ErrorCode.SEVERAL_SERVERS,
    `${boxes.length} plugsrv boxes answered on the LAN; say which one with --server URL:\n${formatBoxes(boxes)
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n')}`,
    { details: { boxes: boxes.map((b) => ({ name: b.name, url: b.url })) } },
  );
}
