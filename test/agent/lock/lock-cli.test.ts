// The lock, through the real CLI and server processes: 423 on package routes, status still answers, survives a restart.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, startServer, tempDir } from '../../helpers/agent-process.js';
import { http, json } from '../../helpers/agent-fixture.js';

const dataDir = await tempDir(t);
const pkgFile = join(dataDir, 'IVI_SOFT_1.bin');
await writeFile(pkgFile, Buffer.alloc(10_000, 7));
const imp = await runCli(['--data-dir', dataDir, 'import', pkgFile, '--kind', 'soft', '--head-unit', 'IVI', '--models', 'XBA', '--package-version', '1', '--json']);
t.equal(imp.code, 0, imp.stderr);
const imported = JSON.parse(imp.stdout.split('\n').find((l) => l.includes('"imported"')) ?? '{}') as { sha256: string };

t.test('lock while running, restart, still locked; unlock restores', async (t) => {
  let server = await startServer(dataDir, [], { PLUGSRV_SERVE_LOCK_POLL_MS: '100' });
  t.equal((await http(`${server.url}/v1/packages/${imported.sha256}`)).status, 200);

  const lock = await runCli(['--data-dir', dataDir, 'lock', '--reason', 'stolen unit reported by dealer 12345678']);
  t.equal(lock.code, 0, lock.stderr);
  await new Promise((r) => setTimeout(r, 400));
  for (const path of ['/v1/packages', `/v1/packages/${imported.sha256}`]) {
    const r = await http(`${server.url}${path}`);
    t.equal(r.status, 423, `${path} is locked in the running server`);
    t.match(json(r), { code: 'E_LOCKED', message: /stolen unit reported by dealer 12345678/ });
  }
  t.equal(await server.stop(), 0, 'clean exit on SIGTERM');

  server = await startServer(dataDir);
  t.teardown(() => server.kill());
  t.equal((await http(`${server.url}/v1/packages/${imported.sha256}`)).status, 423, 'still locked after a restart');
  t.equal((await http(`${server.url}/healthz`)).status, 200, 'health answers while locked');
  const status = json(await http(`${server.url}/v1/status`));
  t.match(status, { locked: true, lockReason: 'stolen unit reported by dealer 12345678' });
  await server.kill();

  const unlock = await runCli(['--data-dir', dataDir, 'unlock']);
  t.equal(unlock.code, 0);
  t.match(unlock.stdout, /unlocked/);
  server = await startServer(dataDir);
  t.equal((await http(`${server.url}/v1/packages/${imported.sha256}`)).status, 200, 'served again after unlock');
  t.match(json(await http(`${server.url}/v1/status`)), { locked: false });
});

t.test('lock without a reason is refused', async (t) => {
  const r = await runCli(['--data-dir', dataDir, 'lock']);
  t.not(r.code, 0);
  t.match(r.stderr, /--reason/);
});
