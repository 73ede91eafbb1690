// The runtime with fake services: what reaches the services, what reaches the screen, and the guarantees around a
// pending network change (kept, reverted on time-out, reverted when the console stops, even mid-apply).
import t from 'tap';
import {
  ConsoleRuntime,
  frameText,
  initialState,
  key,
  type ApplyProgress,
  type ApplyStart,
  type ConsoleServices,
  type Frame,
  type Key,
  type NetworkSettings,
  type NetworkStatus,
  type RevertWhy,
} from '../../../agent/src/console/index.js';

const status: NetworkStatus = { iface: 'eth0', carrier: true, addresses: ['10.0.0.5/24'], gateway: '10.0.0.1', applyWith: 'iproute2', filePath: '/n/10-plugsrv-eth0.network' };

interface Rig {
  runtime: ConsoleRuntime;
  calls: string[];
  frames: Frame[];
  clock: { now: number };
  exited: () => boolean;
  screen: () => string;
  press: (...keys: Array<Key | string>) => Promise<void>;
  tick: (ms: number) => Promise<void>;
}

function rig(over: Partial<ConsoleServices> = {}, rollbackSeconds = 30): Rig {
  const calls: string[] = [];
  const frames: Frame[] = [];
  const clock = { now: 1_000_000 };
  let exited = false;
  const services: ConsoleServices = {
    verifyPassword: async (p) => {
      calls.push(`verify ${p}`);
      return p === 'right-password' ? { ok: true } : { ok: false, triesLeft: 4 };
    },
    changePassword: async (c, n) => {
      calls.push(`change ${c} ${n}`);
      return { ok: true };
    },
    networkStatus: async () => {
      calls.push('status');
      return status;
    },
    applyNetwork: async (settings: NetworkSettings, onProgress: (p: ApplyProgress) => void): Promise<ApplyStart> => {
      calls.push(`apply ${JSON.stringify(settings)}`);
      onProgress({ step: 'checking', deadline: clock.now + 30_000, gateway: '10.0.0.1' });
      return {
        ok: true,
        gateway: '10.0.0.1',
        pending: {
          keep: async () => void calls.push('keep'),
          revert: async (why: RevertWhy) => {
            calls.push(`revert ${why}`);
            return { restored: true };
          },
        },
      };
    },
    runSelfcheck: async () => {
      calls.push('selfcheck');
      return { status: 'ok', startedAt: 0, finishedAt: 10, counts: { ok: 0, warn: 0, fail: 0 }, results: [] };
    },
    enrollment: async () => ({ state: 'not-enrolled' }),
    ...over,
  };
  const runtime = new ConsoleRuntime({
    services,
    initial: initialState({ lang: 'en', now: clock.now, rollbackSeconds }),
    paint: (f) => frames.push(f),
    now: () => clock.now,
    onExit: () => (exited = true),
  });
  const screen = (): string => frameText(frames.at(-1) ?? []).replace(/\s+/g, ' ');
  return {
    runtime,
    calls,
    frames,
    clock,
    exited: () => exited,
    screen,
    async press(...keys) {
      for (const k of keys) {
        if (typeof k === 'string') for (const c of k) runtime.dispatch({ type: 'key', key: key.char(c) });
        else runtime.dispatch({ type: 'key', key: k });
        await runtime.settled();
      }
    },
    async tick(ms) {
      clock.now += ms;
      runtime.dispatch({ type: 'tick' });
      await runtime.settled();
    },
  };
}

const enter = key.named('enter');
const down = key.named('down');

/** Signed in, then through the form to an applied change waiting for "keep?". */
async function toConfirm(r: Rig): Promise<void> {
  r.runtime.paint();
  await r.press('right-password', enter, '1', down, key.named('ctrlU'), '10.0.0.9', down, down, down, '10.0.0.1', down, enter);
}

t.test('sign-in, then a change applied and kept', async (t) => {
  const r = rig();
  r.runtime.paint();
  t.match(r.screen(), 'Password : _');
  await r.press('wrong', enter);
  t.match(r.screen(), 'Wrong password. 4 more tries before a 60 s lockout.');
  await r.press('right-password', enter);
  t.match(r.screen(), 'Interface eth0: 10.0.0.5/24, gateway 10.0.0.1, link up');
  await r.press('1', down, key.named('ctrlU'), '10.0.0.9', down, down, down, '10.0.0.1', down, enter);
  t.match(r.screen(), 'The gateway 10.0.0.1 answers.');
  await r.press('y');
  t.match(r.screen(), 'Network settings applied and kept.');
  t.same(r.calls, [
    'verify wrong',
    'verify right-password',
    'status',
    'status',
    'apply {"mode":"static","address":"10.0.0.9","prefix":24,"gateway":"10.0.0.1","dns":["10.0.0.1"]}',
    'keep',
    'status',
  ]);
  t.notOk(r.frames.some((f) => /right-password|wrong/.test(frameText(f))), 'no frame ever shows a password');
});

t.test('no answer to "keep?" reverts when the countdown ends', async (t) => {
  const r = rig({}, 10);
  await toConfirm(r);
  await r.tick(9_000);
  t.notOk(r.calls.includes('revert timeout'));
  await r.tick(1_000);
  t.ok(r.calls.includes('revert timeout'));
  t.match(r.screen(), 'No confirmation in 10 s: back to the previous settings.');
  t.match(r.screen(), 'The previous settings are back.');
});

t.test('Ctrl-C while waiting for "keep?" reverts before exiting', async (t) => {
  const r = rig();
  await toConfirm(r);
  await r.press(key.named('ctrlC'));
  t.ok(r.exited());
  t.same(r.calls.slice(-1), ['revert declined']);
});

t.test('shutdown waits for an apply in flight and reverts it', async (t) => {
  let finish: (v: ApplyStart) => void = () => undefined;
  const calls: string[] = [];
  const r = rig({
    applyNetwork: () =>
      new Promise<ApplyStart>((resolve) => {
        finish = resolve;
      }),
  });
  await r.press('right-password', enter, '1', down, down, down, down, '10.0.0.1', down);
  // Not through press(): it waits for the effects to settle, and this apply only ends when the test says so.
  r.runtime.dispatch({ type: 'key', key: enter });
  t.match(r.runtime.state.screen, { name: 'applying' });
  const stopped = r.runtime.shutdown();
  let done = false;
  void stopped.then(() => (done = true));
  await new Promise((res) => setImmediate(res));
  t.notOk(done, 'shutdown waits for the apply');
  finish({ ok: true, gateway: '10.0.0.1', pending: { keep: async () => void calls.push('keep'), revert: async (why) => (calls.push(`revert ${why}`), { restored: true }) } });
  await stopped;
  t.same(calls, ['revert declined']);
});

t.test('a service that throws becomes a message, never a crash', async (t) => {
  const boom = (): never => {
    throw new Error('ip: command not found');
  };
  const r = rig({
    verifyPassword: async () => boom(),
    networkStatus: async () => boom(),
    runSelfcheck: async () => boom(),
    enrollment: async () => boom(),
    applyNetwork: async () => boom(),
  });
  r.runtime.paint();
  await r.press('whatever', enter);
  t.match(r.screen(), 'Cannot check the password: ip: command not found');

  const s = rig({ networkStatus: async () => boom(), runSelfcheck: async () => boom(), enrollment: async () => boom(), applyNetwork: async () => boom() });
  s.runtime.paint();
  await s.press('right-password', enter);
  t.match(s.screen(), 'Cannot read the network state: ip: command not found');
  await s.press('2');
  t.match(s.screen(), 'The self-check could not run: ip: command not found');
  await s.press(key.named('escape'), '3');
  t.match(s.screen(), 'Cannot read the state: ip: command not found');
  await s.press(key.named('escape'), '1', down, '10.0.0.9', down, down, '10.0.0.1', down, '10.0.0.1', down, enter);
  t.match(s.screen(), 'Reason: applying failed: ip: command not found');
  t.match(s.screen(), 'WARNING: going back to the previous settings failed');
});

t.test('a failed apply is shown with its reason', async (t) => {
  const r = rig({
    applyNetwork: async (_s, onProgress) => {
      onProgress({ step: 'restoring' });
      return { ok: false, reason: { code: 'gatewayUnreachable', gateway: '10.0.0.99', seconds: 30 }, changed: true, restored: true };
    },
  });
  await r.press('right-password', enter, '1', down, key.named('ctrlU'), '10.0.0.9', down, down, key.named('ctrlU'), '10.0.0.99', down, '10.0.0.1', down, enter);
  t.match(r.screen(), 'Network settings NOT applied.');
  t.match(r.screen(), 'Reason: the gateway 10.0.0.99 does not answer (no ARP reply in 30 s).');
  t.match(r.screen(), 'The previous settings are back.');
});
