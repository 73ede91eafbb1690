// Progress of long CLI work: a bar on a TTY, JSON lines with --json, nothing otherwise but the final lines.
import cliProgress from 'cli-progress';
import type { ImportItem, ImportProgress, ImportResult } from '../import/index.js';
import type { SyncOutcome, SyncProgress } from '../sync/index.js';

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

export function importProgress(mode: { json: boolean; tty: boolean }, out: NodeJS.WritableStream = process.stdout): ImportProgress {
  let bar: cliProgress.SingleBar | undefined;
  let current: { name: string; size: number; lastJson: number } | undefined;
  return {
    start(item: ImportItem, size: number) {
      current = { name: item.meta.name, size, lastJson: 0 };
      if (mode.json) out.write(`${JSON.stringify({ event: 'import-start', name: item.meta.name, path: item.path, size })}\n`);
      else if (mode.tty) {
        bar = new cliProgress.SingleBar(
          { format: ' {name} [{bar}] {percentage}% | {done}/{all} | {speed} | ETA {eta_formatted}', stream: out as NodeJS.WriteStream, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(size, 0, { name: item.meta.name, done: mib(0), all: mib(size), speed: '' });
      }
    },
    advance(bytes: number) {
      if (!current) return;
      if (bar) {
        const elapsed = (Date.now() - (bar as unknown as { startTime: number }).startTime) / 1000;
        bar.update(bytes, { done: mib(bytes), speed: elapsed > 0 ? `${mib(bytes / elapsed)}/s` : '' });
      } else if (mode.json && (bytes - current.lastJson >= 64 * 1048576 || bytes === current.size)) {
        current.lastJson = bytes;
        out.write(`${JSON.stringify({ event: 'import-progress', name: current.name, bytes, size: current.size })}\n`);
      }
    },
    finish(result: ImportResult) {
      bar?.stop();
      bar = undefined;
      if (mode.json) out.write(`${JSON.stringify({ event: 'imported', ...result })}\n`);
      else out.write(`imported ${result.name}  sha256 ${result.sha256}  ${mib(result.size)}${result.existed ? '  (already in the store)' : ''}\n`);
    },
  };
}

/** Progress of `plugsrv sync now`: one bar for the bytes of the whole run on a TTY, JSON lines with --json. */
export function syncProgress(mode: { json: boolean; tty: boolean }, out: NodeJS.WritableStream = process.stdout) {
  let bar: cliProgress.SingleBar | undefined;
  let total = 0;
  const done = new Map<string, number>();
  const sum = (): number => [...done.values()].reduce((a, b) => a + b, 0);
  let lastJson = 0;
  const started = Date.now();
  return {
    event(e: SyncProgress): void {
      if (mode.json) {
        // Throttle only the per-chunk progress lines, to about one a second.
        if (e.event !== 'target') out.write(`${JSON.stringify(e)}\n`);
        else if (e.done === e.total || Date.now() - lastJson > 1000) {
          lastJson = Date.now();
          out.write(`${JSON.stringify(e)}\n`);
        }
        return;
      }
      if (e.event === 'catalog') {
        total = e.bytes;
        out.write(`catalog version ${e.version}: ${e.selected} packages for this site, ${e.missing} to fetch (${mib(e.bytes)})\n`);
        if (mode.tty && e.missing > 0) {
          bar = new cliProgress.SingleBar({ format: ' sync [{bar}] {percentage}% | {done}/{all} | {speed} | ETA {eta_formatted}', stream: out as NodeJS.WriteStream, hideCursor: true }, cliProgress.Presets.shades_classic);
          bar.start(total, 0, { done: mib(0), all: mib(total), speed: '' });
        }
      } else if (e.event === 'target') {
        done.set(e.path, e.done);
        const s = (Date.now() - started) / 1000;
        bar?.update(sum(), { done: mib(sum()), all: mib(total), speed: s > 0 ? `${mib(sum() / s)}/s` : '' });
      } else if (e.event === 'target-done') {
        if (!bar) out.write(`ready ${e.path}  sha256 ${e.sha256}  ${mib(e.size)}\n`);
      } else if (e.event === 'target-failed') {
        bar?.stop();
        out.write(`FAILED ${e.path}: ${e.code}: ${e.message}\n`);
      }
    },
    done(o: SyncOutcome): void {
      bar?.stop();
      if (mode.json) out.write(`${JSON.stringify({ event: 'outcome', ...o })}\n`);
      else out.write(`sync ${o.result}: ${o.ready} ready, ${o.failed} failed, ${mib(o.bytesFetched)} fetched${o.errorCode ? ` (${o.errorCode}: ${o.message})` : ''}\n`);
    },
  };
}

/** `plugsrv sync status` for a person. */
export function formatSyncSummary(s: Record<string, unknown>): string {
  const last = s.lastRun as Record<string, unknown> | null;
  const lines = [`origin ${s.origin}, night window ${s.window} (${s.timeZone}), ${s.inWindow ? `open until ${s.windowEnd}` : `next opens ${s.nextWindowStart}`}`];
  if (!last) lines.push('no sync has run yet');
  else lines.push(`last run #${last.id} (${last.trigger}): ${last.result}, started ${last.startedAt}, catalog v${last.catalogVersion ?? '?'}, ${last.targetsReady}/${last.targetsSelected} ready, ${mib(Number(last.bytesFetched))} fetched${last.errorCode ? `, ${last.errorCode}: ${last.message}` : ''}`);
  for (const d of s.downloading as Array<{ path: string; doneBytes: number; size: number }>) lines.push(`  downloading ${d.path}: ${mib(d.doneBytes)} / ${mib(d.size)}`);
  for (const f of s.failed as Array<{ path: string; error: string }>) lines.push(`  failed ${f.path}: ${f.error}`);
  return lines.join('\n');
}
