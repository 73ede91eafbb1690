// `plugsrv fetch` to a FAT32 USB key: a file of 4 GiB or more is refused before any byte is requested or written, with what to do; EFBIG from an undetected file system says the same.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLI, cleanEnv, runCli, tempDir } from '../../helpers/agent-process.js';
import { smallTmpfs } from '../../helpers/tmpfs.js';

/** A stand-in box that lists what a test wants (big sizes cost nothing) and records what it was asked. */
async function listingServer(t: { teardown(fn: () => unknown): void }, packages: unknown[]): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const srv = createServer((req, res) => {
    requests.push(req.url ?? '');
    if ((req.url ?? '').startsWith('/v1/packages?') || req.url === '/v1/packages') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ packages }));
    } else res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'E_NOT_FOUND', message: 'no' }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => srv.close(r)));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, requests };
}

t.test('a file of 4 GiB or more bound for FAT32 is refused before any byte, with what to do', async (t) => {
  const out = await smallTmpfs(t, '8m');
  if (typeof out !== 'string') {
    t.plan(0, out.skip);
    return;
  }
  const four = { id: 'a'.repeat(64), name: 'IVI_MAP_WORLD.bin', size: 4 * 1024 ** 3, kind: 'map', headUnit: 'IVI', models: ['XBA'], version: '1' };
  const justUnder = { id: 'b'.repeat(64), name: 'IVI_MAP_EU.bin', size: 4 * 1024 ** 3 - 1, kind: 'map', headUnit: 'IVI', models: ['XBA'], version: '1' };
  const box = await listingServer(t, [four, justUnder]);
  // The output folder's file system is given (this kernel has no vfat to mount); its detection is tested in test/agent/fetch.
  const fat = await runCli(['fetch', '--server', box.url, '--all', '--out', out, '--output-fs', 'vfat']);
  t.equal(fat.code, 3, fat.stderr);
  t.match(fat.stderr, /E_FILE_TOO_LARGE: .* is on a FAT32 file system \(vfat\), which cannot hold a file of 4 GiB or more: IVI_MAP_WORLD\.bin \(4\.00 GiB\)\. Reformat the USB key as exFAT \(or NTFS\) and run again, or leave this package out \(--id\)\. Nothing was written\./);
  t.notMatch(fat.stderr, /IVI_MAP_EU/, '4 GiB - 1 byte fits FAT32');
  t.same(await readdir(out), [], 'nothing written');

  const underOnly = await runCli(['fetch', '--server', box.url, '--id', justUnder.id, '--out', out, '--output-fs', 'vfat']);
  t.equal(underOnly.code, 3);
  t.match(underOnly.stderr, /E_DISK_FULL: not enough free space/, 'the size limit passes; the free space check refuses next');
  t.same(box.requests.filter((u) => u.startsWith('/v1/packages/')), [], 'no byte was requested');
  t.same(await readdir(out), []);
});

t.test('where the file system cannot be told, its EFBIG at the first write is the same clear error', async (t) => {
  const pkg = { id: 'c'.repeat(64), name: 'IVI_SOFT.bin', size: 1024 * 1024, kind: 'soft', headUnit: 'IVI', models: ['XBA'], version: '1' };
  const box = await listingServer(t, [pkg]);
  const out = await tempDir(t);
  // RLIMIT_FSIZE of 64 KiB with SIGXFSZ ignored: the kernel answers EFBIG past it, as vfat does past 4 GiB - 1.
  // Without tap's NODE_OPTIONS hook (re-added to children): its signal-exit turns the ignored SIGXFSZ into a kill.
  const child = spawn('bash', ['-c', 'trap "" XFSZ; ulimit -f 64 && exec env -u NODE_OPTIONS "$0" "$@"', process.execPath, CLI, 'fetch', '--server', box.url, '--all', '--out', out], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('close', r));
  t.equal(code, 3, stderr);
  t.match(stderr, /E_FILE_TOO_LARGE: the file system holding .*IVI_SOFT\.bin cannot hold a file this large \(EFBIG; FAT32 stops at 4 GiB\): reformat the USB key as exFAT/);
  t.same(box.requests.filter((u) => u.startsWith('/v1/packages/')), [], 'refused before any byte was requested');
});
