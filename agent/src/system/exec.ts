// Runs a system command (ip, networkctl) without a shell, with a timeout; failures become E_NETWORK_APPLY naming the command.
import { execFile } from 'node:child_process';
import { AgentError, ErrorCode } from '../errors.js';

/** Runs `file args...` and resolves with its stdout; rejects with E_NETWORK_APPLY carrying the first line of its stderr. */
export type RunCommand = (file: string, args: readonly string[]) => Promise<string>;

export function commandRunner(options: { timeoutMs?: number } = {}): RunCommand {
  const timeout = options.timeoutMs ?? 15_000;
  return (file, args) =>
    new Promise((resolve, reject) => {
      execFile(file, [...args], { timeout, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const first = stderr.trim().split('\n')[0] ?? '';
        const why =
          first !== ''
            ? first
            : (err as NodeJS.ErrnoException).code === 'ENOENT'
              ? `${file} not found (install iproute2 / systemd-networkd)`
              : err.killed
                ? `no answer within ${timeout} ms`
                : err.message;
        reject(new AgentError(ErrorCode.NETWORK_APPLY, `${file} ${args.join(' ')} failed: ${why}`, { cause: err }));
      });
    });
}
