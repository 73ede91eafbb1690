// `plugsrv demo` (what `npm start` runs) on a fresh directory: samples generated, a signed demo catalog published and synced, then served.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI, cleanEnv, tempDir } from '../../helpers/agent-process.js';
import { http, json } from '../../helpers/agent-fixture.js';
import { DEMO_SAMPLES } from '../../../agent/src/demo/samples.js';

t.test('the demo syncs its samples from its own origin and serves them', async (t) => {
  const cwd = await tempDir(t);
  const child = spawn(process.execPath, [CLI, 'demo', '--port', '0'], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not serve within 120 s:\n${out}`)), 120_000);
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${out}`)));
    let serving: number | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      out += `${line}\n`;
      const m = /"msg":"serving".*"port":(\d+)/.exec(line);
      if (m) serving = Number(m[1]);
      // The banner follows the "serving" log line: wait for its last line before checking it.
      if (serving !== undefined && line.startsWith('Stop with Ctrl-C')) {
        clearTimeout(timer);
        resolve(serving);
      }
    });
  });
  t.match(out, new RegExp(`sync ok: ${DEMO_SAMPLES.length} ready, 0 failed`));
  t.match(out, /curl -OJ/, 'prints a curl line to try');
  const base = `http://127.0.0.1:${port}`;
  const list = json<{ packages: Array<{ name: string; size: number }> }>(await http(`${base}/v1/packages`)).packages;
  t.same(list.map((p) => p.name).sort(), DEMO_SAMPLES.map((s) => s.meta.name).sort());
  t.equal((await http(`${base}/tuf/metadata/timestamp.json`)).status, 200, 'the signed catalog is mirrored for LAN clients');
  const status = json(await http(`${base}/v1/status`));
  // Inside the night window the serve role may already be running its own (empty) sync: either state is fine.
  t.match(status, { packages: { ready: DEMO_SAMPLES.length }, sync: { origin: /^127\.0\.0\.1:\d+$/, lastRun: { result: /^(ok|running)$/ } } });
});
