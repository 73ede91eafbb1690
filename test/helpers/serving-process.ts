// Test helper: spawns a server CLI (`plugsrv serve`, `plugsrv-fleet serve`) and resolves once its JSON log says
// `serving` with the port the OS gave it; a start that fails or takes too long rejects with the process's output.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServingProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** The `serving` log entry (url, rootCa ... as the server logs them). */
  readonly entry: Record<string, unknown>;
  /** Everything the process printed on stdout so far. */
  output(): string;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<number | null>;
  /** SIGKILL (if still running), then wait for the exit. */
  kill(): Promise<void>;
}

/** `command` is node by default; `ip` (with `netns exec NS node ...` in args) starts the server inside a namespace. */
export function spawnServing(what: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, command = process.execPath): Promise<ServingProcess> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start within ${timeoutMs / 1000} s\nstdout:\n${out}\nstderr:\n${err}`));
    }, timeoutMs);
    const early = (code: number | null): void => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`${what} exited early with code ${code}\nstdout:\n${out}\nstderr:\n${err}`), { exitCode: code, stderr: err }));
    };
    child.once('exit', early);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      out += `${line}\n`;
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg !== 'serving' || typeof entry.port !== 'number') return;
      clearTimeout(timer);
      child.off('exit', early);
      resolvePromise({
        child,
        port: entry.port,
        entry,
        output: () => out,
        async stop() {
          child.kill('SIGTERM');
          return exited;
        },
        async kill() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}
