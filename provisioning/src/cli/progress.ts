// Progress of flashing and personalising: one bar per target and phase with speed and ETA on a TTY, JSON lines with
// --json, a line per finished phase otherwise.
import cliProgress from 'cli-progress';
import { formatBytes, formatRate, isFlashProgressEvent } from '../flash/index.js';
import type { ProgressEvent, ProgressSink } from '../progress.js';

export function lineProgress(mode: { json: boolean; tty: boolean }, out: NodeJS.WritableStream = process.stderr): { sink: ProgressSink; stop(): void } {
  if (mode.json) {
    let last = new Map<string, number>();
    return {
      sink(e: ProgressEvent) {
        const key = `${e.phase} ${e.target ?? ''}`;
        const now = Date.now();
        if (e.doneBytes < e.totalBytes && now - (last.get(key) ?? 0) < 1000) return;
        last.set(key, now);
        const extra = isFlashProgressEvent(e) ? { bytesPerSecond: Math.round(e.bytesPerSecond), etaSeconds: e.etaSeconds === undefined ? null : Math.round(e.etaSeconds) } : {};
        process.stdout.write(`${JSON.stringify({ event: 'progress', phase: e.phase, target: e.target ?? null, doneBytes: e.doneBytes, totalBytes: e.totalBytes, ...extra })}\n`);
      },
      stop() {
        last = new Map();
      },
    };
  }
  if (!mode.tty) {
    const finished = new Set<string>();
    return {
      sink(e: ProgressEvent) {
        const key = `${e.phase} ${e.target ?? ''}`;
        if (e.doneBytes >= e.totalBytes && e.totalBytes > 0 && !finished.has(key)) {
          finished.add(key);
          out.write(`${e.phase}${e.target ? ` ${e.target}` : ''}: ${formatBytes(e.totalBytes)} done\n`);
        }
      },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    { format: ' {phase} {target} [{bar}] {percentage}% | {done}/{all} | {speed} | ETA {eta}', stream: out as NodeJS.WriteStream, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    sink(e: ProgressEvent) {
      const key = `${e.phase} ${e.target ?? ''}`;
      const payload = {
        phase: e.phase.padEnd(13),
        target: e.target ?? '',
        done: formatBytes(e.doneBytes),
        all: formatBytes(e.totalBytes),
        speed: isFlashProgressEvent(e) && e.bytesPerSecond > 0 ? formatRate(e.bytesPerSecond) : '',
        eta: isFlashProgressEvent(e) && e.etaSeconds !== undefined ? `${Math.round(e.etaSeconds)}s` : '-',
      };
      let bar = bars.get(key);
      if (!bar) {
        bar = multi.create(Math.max(1, e.totalBytes), 0, payload);
        bars.set(key, bar);
      }
      bar.update(e.doneBytes, payload);
    },
    stop() {
      multi.stop();
    },
  };
}
