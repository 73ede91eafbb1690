// `plugsrv console`: the first-boot text UI for tty1 (wires the pure console to the system adapters and the terminal),
// and `plugsrv console hash-password` (the password file's line, for the production line and developers).
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { createLogger, defaultSink, type Logger } from '../../../lib/log/index.js';
import type { Config } from '../config/index.js';
import {
  ConsoleRuntime,
  hashPassword,
  identityFileReader,
  initialState,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  type ConsoleServices,
  type Lang,
} from '../console/index.js';
import { AgentError, ErrorCode } from '../errors.js';
import { planFromConfig, runSelfcheck } from '../selfcheck/index.js';
import {
  commandRunner,
  IpRoute,
  iproute2Backend,
  lockoutFileIn,
  NetworkChanger,
  networkdBackend,
  openTerminalScreen,
  PasswordGuard,
  readCarrier,
  resolveInterface,
  udpProbe,
  type LinkChecks,
} from '../system/index.js';
import { configFrom, selfcheckEnv } from './context.js';

const TICK_MS = 250;

/**
 * Logs go to journald on the appliance; elsewhere to <dataDir>/console/console.log, never to stdout, which the
 * full-screen UI owns.
 */
function consoleLogger(config: Config, dataDir: string): { log: Logger; flush: () => Promise<void> } {
  const dir = join(dataDir, 'console');
  mkdirSync(dir, { recursive: true });
  const file = createWriteStream(join(dir, 'console.log'), { flags: 'a', mode: 0o600 });
  const log = createLogger({ sink: defaultSink('plugsrv-console', file), level: config.log.level });
  return {
    log,
    flush: async () => {
      log.close();
      await new Promise<void>((r) => file.end(r));
    },
  };
}

async function runConsole(config: Config): Promise<void> {
  const dataDir = resolve(config.dataDir);
  const { log, flush } = consoleLogger(config, dataDir);
  try {
    await runScreen(config, dataDir, log);
  } finally {
    await flush();
  }
  // terminal-kit keeps stdin referenced; the console is done, so leave now rather than wait on it.
  process.exit(process.exitCode ?? 0);
}

async function runScreen(config: Config, dataDir: string, log: Logger): Promise<void> {
  const c = config.console;
  // Refuse before taking the screen: an unpersonalised unit or a bad password file is said plainly on stderr.
  const guard = await PasswordGuard.open({ passwordFile: c.passwordFile, lockoutFile: lockoutFileIn(dataDir), log });
  if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) {
    throw new AgentError(ErrorCode.CONSOLE_TTY, 'plugsrv console is a full-screen text UI: run it on a terminal (tty1 on the appliance), not with its input or output redirected.');
  }
  const iface = await resolveInterface(c.interface);
  const run = commandRunner();
  const ip = new IpRoute(run);
  const checks: LinkChecks = {
    carrier: (i) => readCarrier(i),
    addresses: (i) => ip.addresses(i),
    defaultGateway: (i) => ip.defaultGateway(i),
    neighbourState: (i, a) => ip.neighbourState(i, a),
    flushNeighbour: (i, a) => ip.flushNeighbour(i, a),
    sendProbe: udpProbe,
  };
  const backend = c.applyWith === 'networkd' ? networkdBackend(iface, run) : iproute2Backend(iface, ip, c.resolvConf);
  const changer = new NetworkChanger({ iface, networkDir: c.networkDir, backend, checks, rollbackSeconds: c.rollbackSeconds, log });
  const services: ConsoleServices = {
    verifyPassword: (password) => guard.verify(password),
    changePassword: (current, next) => guard.change(current, next),
    networkStatus: () => changer.status(),
    applyNetwork: (settings, onProgress) => changer.apply(settings, onProgress),
    // Not recorded in the state DB: the console runs as root and must not leave root-owned WAL files to the service.
    runSelfcheck: async () => runSelfcheck(planFromConfig(config), await selfcheckEnv(dataDir)),
    enrollment: identityFileReader(dataDir),
  };

  const now = Date.now();
  // A console restarted during a lockout shows it at once.
  const initial = initialState({ lang: c.lang, layout: c.keyboard, now, rollbackSeconds: c.rollbackSeconds, lockedUntil: now + guard.lockedForMs() });

  log.info('console: started', { interface: iface, applyWith: c.applyWith, networkDir: c.networkDir });
  const screen = openTerminalScreen();
  let tick: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((done) => {
      const runtime = new ConsoleRuntime({ services, initial, paint: (frame) => screen.paint(frame), now: Date.now, onExit: done, log });
      let stopping = false;
      // systemd stopping the unit: let a change in flight finish, revert it unless it was kept, then leave.
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log.info('console: stopping', { signal });
        void runtime.shutdown().finally(done);
      };
      for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) process.once(signal, () => stop(signal));
      screen.onKey((key) => runtime.dispatch({ type: 'key', key }));
      screen.onResize(() => runtime.paint());
      tick = setInterval(() => runtime.dispatch({ type: 'tick' }), TICK_MS);
      runtime.paint();
    });
  } finally {
    clearInterval(tick);
    screen.close();
    log.info('console: stopped');
  }
}

/** Reads one line from stdin: without echo on a terminal (asked twice), else the first line of what is piped in. */
async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY !== true) {
    let text = '';
    for await (const chunk of stdin) text += (chunk as Buffer).toString('utf8');
    return text.split(/\r?\n/)[0] ?? '';
  }
  const ask = (prompt: string): Promise<string> =>
    new Promise((resolvePromise, reject) => {
      process.stderr.write(prompt);
      let value = '';
      stdin.setRawMode(true);
      stdin.resume();
      const onData = (data: Buffer): void => {
        for (const ch of data.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            finish();
            process.stderr.write('\n');
            return resolvePromise(value);
          }
          if (ch === '\u0003') {
            finish();
            process.stderr.write('\n');
            return reject(new AgentError(ErrorCode.BAD_REQUEST, 'interrupted; no password file line was printed.'));
          }
          if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
          else if (ch >= ' ') value += ch;
        }
      };
      const finish = (): void => {
        stdin.off('data', onData);
        stdin.setRawMode(false);
        stdin.pause();
      };
      stdin.on('data', onData);
    });
  const first = await ask('New console password: ');
  const again = await ask('Again: ');
  if (first !== again) throw new AgentError(ErrorCode.BAD_REQUEST, 'the two passwords differ; run the command again.');
  return first;
}

/** plugsrv console [--lang fr|en] and plugsrv console hash-password. */
export function registerConsoleCommand(program: Command): void {
  const consoleCmd = program
    .command('console')
    .description('first-boot console for tty1: network set-up (DHCP or fixed address, rolled back if the gateway does not answer), self-check, enrollment, password');
  consoleCmd
    .command('run', { isDefault: true })
    .description('full-screen text UI, keyboard only, 80x25; needs the password in console.passwordFile (runs as root: it writes the network set-up)')
    .addOption(new Option('--lang <lang>', 'language at start (F2 switches)').choices(['fr', 'en']))
    .action(async (opts: { lang?: Lang }, cmd: Command) => {
      await runConsole(configFrom(cmd, { 'console.lang': opts.lang }));
    });
  consoleCmd
    .command('hash-password')
    .description(`read a password (at least ${MIN_PASSWORD_LENGTH} characters) on stdin and print the line to store in console.passwordFile (scrypt)`)
    .action(async () => {
      const password = await readPassword();
      const length = [...password.normalize('NFC')].length;
      if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
        throw new AgentError(ErrorCode.BAD_REQUEST, `the password must have ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters, not ${length}.`);
      }
      process.stdout.write(`${await hashPassword(password)}\n`);
    });
}
