// Tools run as real child processes in their own group: a time limit or an abort stops the tool and what it forked.
import t from 'tap';
import { defaultSearchPath, findTool, killGroup, requireTool, runTool, tail } from '../../../hardware/src/index.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, withinMs = 3000): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

t.test('a tool that finishes: exit code and output', async (t) => {
  const r = await runTool('/bin/sh', ['-c', 'echo out; echo err >&2; exit 3']);
  t.match(r, { code: 3, signal: null, stdout: 'out\n', stderr: 'err\n', aborted: false });
});

t.test('an abort stops the tool and the workers it forked (the whole process group)', async (t) => {
  const controller = new AbortController();
  let worker = 0;
  const run = runTool('/bin/sh', ['-c', 'sleep 30 & echo $!; wait'], {
    signal: controller.signal,
    onStdout: (chunk) => {
      worker = Number(chunk.trim());
      controller.abort();
    },
  });
  const r = await run;
  t.ok(worker > 0, `the worker was pid ${worker}`);
  t.equal(r.aborted, true);
  t.equal(r.signal, 'SIGTERM');
  t.ok(await gone(worker), 'the forked sleep is gone too');
});

t.test('a tool that ignores SIGTERM gets SIGKILL after the grace period', async (t) => {
  const started = Date.now();
  const r = await runTool('/bin/sh', ['-c', 'trap "" TERM; echo ready; sleep 30; sleep 30'], { signal: AbortSignal.timeout(300), killGraceMs: 300 });
  t.equal(r.aborted, true);
  t.equal(r.signal, 'SIGKILL');
  t.ok(Date.now() - started < 5000, 'well before the sleeps would end');
});

t.test('an already aborted signal runs nothing; the spawn and exit hooks give the group to kill', async (t) => {
  const r = await runTool('/bin/sh', ['-c', 'exit 0'], { signal: AbortSignal.abort() });
  t.match(r, { aborted: true, code: null, durationMs: 0 });
  const live = new Set<number>();
  const running = runTool('/bin/sh', ['-c', 'sleep 30 & sleep 30'], { onSpawn: (pid) => live.add(pid), onExit: (pid) => live.delete(pid) });
  t.equal(live.size, 1);
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const pid of live) killGroup(pid, 'SIGKILL');
  t.equal((await running).signal, 'SIGKILL');
  t.equal(live.size, 0, 'told when it is gone');
});

t.test('finding tools: PATH plus the sbin folders; a missing one names its Debian package', async (t) => {
  t.ok(defaultSearchPath({ PATH: '/usr/bin:/bin' }).includes('/usr/sbin'), 'memtester and smartctl live in /usr/sbin on Debian');
  t.equal(await findTool('sh', ['/nonexistent', '/bin']), '/bin/sh');
  t.equal(await findTool('sh', ['/nonexistent']), undefined);
  await t.rejects(requireTool('smartctl', ['/nonexistent']), { code: 'E_HW_TOOL_MISSING', message: 'smartctl is not installed: install the Debian package smartmontools (apt-get install smartmontools) and run the burn-in again.' });
});

t.test('tail: last lines, spinners removed', async (t) => {
  t.equal(tail('a\nb\n\nc\n', 2), 'b\nc');
  t.equal(tail('  Bit Flip : -\b\\\b|\bok\n'), '  Bit Flip : ok');
});
