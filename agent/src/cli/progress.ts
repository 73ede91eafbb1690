// Progress of long CLI work: a bar on a TTY, JSON lines with --json, nothing otherwise but the final lines.
import cliProgress from 'cli-progress';
import type { ImportItem, ImportProgress, ImportResult } from '../import/index.js';

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
          { format: ' {name} [{bar}] {percentage}% | {done}/{total} | {speed} | ETA {eta_formatted}', stream: out as NodeJS.WriteStream, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(size, 0, { name: item.meta.name, done: mib(0), total: mib(size), speed: '' });
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
