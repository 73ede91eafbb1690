// The production line end to end on loopback: a real fleet process, the real `plugsrv-line` CLI, an order imported,
// a disk-image file standing in for the unit's disk flashed (bmap) and personalised, the personalisation read back
// from the partition with debugfs, its token enrolling the real agent once and only once, a replacement retiring
// the old device at the fleet, and bad inputs refused with nothing written.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { packageRoot } from '../../lib/package-root.js';
import { parsePasswordHash, verifyPassword } from '../../agent/src/console/index.js';
import { readGpt } from '../../provisioning/src/personalise/index.js';
import { runCli, tempDir } from '../helpers/agent-process.js';
import { api, createKey, startFleet } from '../helpers/fleet-process.js';

const execFileP = promisify(execFile);
const LINE_CLI = resolve(packageRoot(), 'dist', 'provisioning', 'src', 'cli', 'main.js');
const MiB = 1024 * 1024;

const missing: string[] = [];
for (const tool of ['sgdisk', 'bmaptool', 'mkfs.ext4', 'debugfs']) {
  try {
    await execFileP(tool, tool === 'bmaptool' ? ['--version'] : tool === 'debugfs' ? ['-V'] : tool === 'mkfs.ext4' ? ['-V'] : ['--version']);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') missing.push(tool);
  }
}
if (missing.length > 0) {
  t.plan(0, `the line needs ${missing.join(', ')} (apt-get install gdisk bmap-tools e2fsprogs)`);
} else {
  await main();
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function main(): Promise<void> {
  const root = await tempDir(t, 'plugsrv-line-e2e-');
  const fleet = await startFleet(join(root, 'fleet'));
  t.teardown(() => fleet.stop());
  const key = await createKey(join(root, 'fleet'), 'provision', 'line');
  const caFile = join(root, 'fleet-ca.pem');
  await writeFile(caFile, fleet.rootCa);
  const siteTemplate = join(root, 'site.yaml');
  await writeFile(siteTemplate, 'sync:\n  originUrl: https://origin.invalid/repo\n  window: "21:30-06:00"\n');
  const dataDir = join(root, 'line');
  const env = { PLUGSRV_FLEET_API_KEY: key, PLUGSRV_LINE_UNIT_SITE_TEMPLATE: siteTemplate };
  const line = (args: string[], input = ''): Promise<Run> =>
    new Promise((res, rej) => {
      const envAll: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PLUGSRV_')) envAll[k] = v;
      const child = spawn(process.execPath, [LINE_CLI, '--data-dir', dataDir, '--fleet-url', fleet.url, '--fleet-ca', caFile, '--operator', 'tester', ...args], { env: { ...envAll, ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', rej);
      child.on('close', (code) => res({ code, stdout, stderr }));
      child.stdin.end(input);
    });

  // The golden image stand-in: the real layout's partition names (esp, root, var, plugsrv-perso), data in the first
  // three, a bmap from bmaptool and a manifest as image/build.sh writes them.
  const imgDir = join(root, 'image');
  await mkdir(imgDir);
  const image = join(imgDir, 'plugsrv-9.9.9.raw');
  await writeFile(image, '');
  await truncate(image, 64 * MiB);
  await execFileP('sgdisk', ['-o', '-n', '1:1M:+8M', '-t', '1:ef00', '-c', '1:esp', '-n', '2:0:+24M', '-c', '2:root', '-n', '3:0:+8M', '-c', '3:var', '-n', '4:0:+8M', '-c', '4:plugsrv-perso', image]);
  {
    const h = await open(image, 'r+');
    for (const [off, len] of [[2 * MiB, 2 * MiB], [12 * MiB, 6 * MiB], [36 * MiB, 1 * MiB]] as const) await h.write(randomBytes(len), 0, len, off);
    await h.close();
  }
  const { stdout: bmapText } = await execFileP('bmaptool', ['create', image], { maxBuffer: 16 * MiB });
  const bmap = `${image}.bmap`;
  await writeFile(bmap, bmapText);
  const imageSha = createHash('sha256').update(await readFile(image)).digest('hex');
  const manifestOf = (sha: string) =>
    JSON.stringify({ name: 'plugsrv', version: '9.9.9', outputs: [{ file: basename(image), sha256: sha, bytes: 64 * MiB }, { file: basename(bmap), sha256: createHash('sha256').update(bmapText).digest('hex') }] });
  await writeFile(join(imgDir, 'manifest.json'), manifestOf(imageSha));
  const disk = async (name: string, bytes = 80 * MiB): Promise<string> => {
    const p = join(root, name);
    await writeFile(p, '');
    await truncate(p, bytes);
    return p;
  };
  const sha = async (p: string): Promise<string> => createHash('sha256').update(await readFile(p)).digest('hex');
  /** The result line of a --json run (after the progress lines). */
  const result = <T>(stdout: string): T[] => (JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { units: T[] }).units;

  const DEALER = '12345678';
  const csv = join(root, 'orders.csv');
  await writeFile(
    csv,
    'order_ref,dealer_code,site,quantity,contact_email,delivery_address,lang,network,address,gateway,dns\n' +
      `PO-1,${DEALER},"Garage du Centre, Lyon",1,it@garage.example,"1 rue X, 69001 Lyon",fr,static,192.168.10.20/24,192.168.10.1,192.168.10.1\n`,
  );

  await t.test('a malformed orders CSV is refused whole, with line numbers', async (t) => {
    const bad = join(root, 'bad.csv');
    await writeFile(bad, `order_ref,dealer_code,site,quantity,contact_email,delivery_address\nOK-1,${DEALER},Site,1,a@b.example,1 rue Y\nBAD-1,1234,Site,9,a@b.example,1 rue Y\n`);
    const r = await line(['orders', 'import', bad]);
    t.equal(r.code, 2, r.stderr);
    t.match(r.stderr, /E_ORDERS_CSV/);
    t.match(r.stderr, /line 3: dealer_code "1234"/);
    t.match(r.stderr, /line 3: quantity "9"/);
    const list = await line(['orders', 'list', '--json']);
    t.same(JSON.parse(list.stdout), [], 'nothing was imported, not even the good row');
  });

  let orderId = '';
  await t.test('the order is imported; a second import of the same file changes nothing', async (t) => {
    const r = await line(['orders', 'import', csv, '--json']);
    t.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { imported: { id: string; ref: string; network: { mode: string } }[] };
    t.equal(out.imported.length, 1);
    t.equal(out.imported[0]?.network.mode, 'static');
    orderId = out.imported[0]?.id ?? '';
    const again = JSON.parse((await line(['orders', 'import', csv, '--json'])).stdout) as { imported: unknown[]; unchanged: string[] };
    t.same(again, { imported: [], unchanged: ['PO-1'] });
  });

  const base = ['--order', 'PO-1', '--image', image, '--bmap', bmap, '--yes'];

  await t.test('bad targets and images are refused before anything is written', async (t) => {
    const small = await disk('small.img', 32 * MiB);
    const before = await sha(small);
    const r1 = await line(['flash', ...base, '--target', small, '--serial', 'SN-LINE-1']);
    t.equal(r1.code, 3, r1.stderr);
    t.match(r1.stderr, /E_TARGET_TOO_SMALL/);
    t.equal(await sha(small), before, 'the small target is untouched');
    const wrongDir = join(root, 'wrong');
    await mkdir(wrongDir);
    const wrongManifest = join(wrongDir, 'manifest.json');
    await writeFile(wrongManifest, manifestOf('0'.repeat(64)));
    const target = await disk('untouched.img');
    const tBefore = await sha(target);
    const r2 = await line(['flash', ...base, '--manifest', wrongManifest, '--target', target, '--serial', 'SN-LINE-1']);
    t.equal(r2.code, 2, r2.stderr);
    t.match(r2.stderr, /E_IMAGE_MISMATCH/);
    t.equal(await sha(target), tBefore, 'nothing written on an image that does not match its manifest');
    const r3 = await line(['flash', '--order', 'PO-1', '--image', image, '--bmap', bmap, '--target', target, '--serial', 'SN-LINE-1']);
    t.equal(r3.code, 2, 'no TTY and no --yes');
    t.match(r3.stderr, /E_NOT_CONFIRMED/);
    t.equal(await sha(target), tBefore);
    const units = JSON.parse((await line(['units', 'show', 'SN-LINE-1', '--json'])).stdout) as { steps: { step: string; state: string }[] };
    t.notOk(units.steps.some((s) => s.step === 'flash'), 'no flash step recorded');
  });

  // No await at this level between subtests: tap ends the root test when nothing is queued after one.
  const unitDisk = join(root, 'unit1.img');
  let unitId = '';
  let password = '';
  await t.test('produce: flash + personalise + letter + label; resumable; the unit is not ready without its burn-in', async (t) => {
    await disk('unit1.img');
    const r = await line(['produce', ...base, '--target', unitDisk, '--serial', 'SN-LINE-1', '--json']);
    t.equal(r.code, 0, r.stderr);
    const out = result<{ unitId: string; status: string; done: string[]; toDo: string[] }>(r.stdout)[0];
    t.match(out, { status: 'in-progress', toDo: ['burnin'] });
    t.ok(out?.done.includes('flash') && out.done.includes('personalise') && out.done.includes('label'));
    unitId = out?.unitId ?? '';
    t.match(r.stdout, /"event":"progress","phase":"write"/, 'JSON progress lines');
    const ship = await line(['units', 'ship', unitId]);
    t.equal(ship.code, 6, 'a unit without its burn-in does not ship');
    t.match(ship.stderr, /steps still to do: burnin/);
    // The mapped ranges of the image are on the target.
    const img = await readFile(image);
    const tgt = await readFile(unitDisk);
    t.ok(img.subarray(12 * MiB, 18 * MiB).equals(tgt.subarray(12 * MiB, 18 * MiB)), 'the root data was written');
    // The dealer letter holds the password (mode 0600); the DB does not.
    const docs = join(dataDir, 'documents', 'PO-1');
    const files = (await readdir(docs)).sort();
    t.same(files, [`${unitId}-label.pdf`, `${unitId}-letter-fr.html`, `${unitId}-letter-fr.txt`]);
    t.equal((await stat(join(docs, `${unitId}-letter-fr.txt`))).mode & 0o777, 0o600);
    const letter = await readFile(join(docs, `${unitId}-letter-fr.txt`), 'utf8');
    password = /\b([bcdefghjknprstuvx]{16})\b/.exec(letter)?.[1] ?? '';
    t.ok(password, 'the letter shows the temporary password');
    t.match(letter, /SN-LINE-1/);
    const db = await readFile(join(dataDir, 'plugsrv-line.db')).catch(() => Buffer.alloc(0));
    const wal = await readFile(join(dataDir, 'plugsrv-line.db-wal')).catch(() => Buffer.alloc(0));
    t.notOk(Buffer.concat([db, wal]).includes(password), 'the password is not in the line DB');
    t.notOk(Buffer.concat([db, wal]).includes('pbt_'), 'no token secret in the line DB');
    // Rerun: nothing to redo but the burn-in, which is now recorded as skipped with a reason.
    const again = await line(['produce', ...base, '--target', unitDisk, '--serial', 'SN-LINE-1', '--skip-burnin', 'burn-in done at the supplier, batch 7', '--json']);
    t.equal(again.code, 0, again.stderr);
    const o2 = result<{ status: string; done: string[]; resumed: boolean }>(again.stdout)[0];
    t.match(o2, { status: 'ready', done: ['burnin'], resumed: true }, 'only the missing step ran');
  });

  const persoDir = join(root, 'perso');
  await t.test('the personalisation is read back from the partition (debugfs), as the first boot will import it', async (t) => {
    const h = await open(unitDisk, 'r');
    const gpt = await readGpt(async (off, len) => {
      const b = Buffer.alloc(len);
      await h.read(b, 0, len, off);
      return b;
    });
    if ('why' in gpt) throw new Error(gpt.why);
    const part = gpt.partitions.find((p) => p.name === 'plugsrv-perso');
    if (!part) throw new Error('no perso partition');
    const buf = Buffer.alloc(part.sizeBytes);
    await h.read(buf, 0, buf.length, part.offsetBytes);
    await h.close();
    const fsFile = join(root, 'perso.ext4');
    await writeFile(fsFile, buf);
    const { stdout: label } = await execFileP('/sbin/e2label', [fsFile]).catch(() => execFileP('e2label', [fsFile]));
    t.equal(label.trim(), 'plugsrv-perso', 'the file system label the first boot looks for');
    await mkdir(persoDir);
    const cat = async (name: string): Promise<string> => (await execFileP('debugfs', ['-R', `cat /${name}`, fsFile])).stdout;
    const { stdout: ls } = await execFileP('debugfs', ['-R', 'ls -l /', fsFile]);
    t.match(ls, /100600.*bootstrap-token/, 'the token is 0600');
    t.match(ls, /100600.*console-password/, 'the password hash is 0600');
    for (const f of ['plugsrv.yaml', 'bootstrap-token', 'console-password', 'unit.json', 'fleet-ca.pem']) await writeFile(join(persoDir, f), await cat(f));
    const unit = JSON.parse(await readFile(join(persoDir, 'unit.json'), 'utf8')) as Record<string, string>;
    t.match(unit, { unitId, serial: 'SN-LINE-1', dealerCode: DEALER, site: 'Garage du Centre, Lyon', imageVersion: '9.9.9' });
    t.match(await cat('network/10-plugsrv-site.network'), /Address=192\.168\.10\.20\/24/);
    const hash = parsePasswordHash(await readFile(join(persoDir, 'console-password'), 'utf8'));
    t.ok(await verifyPassword(password, hash), "the letter's password opens the console");
    t.notOk(await verifyPassword(`${password}x`, hash));
    t.equal((await readFile(join(persoDir, 'fleet-ca.pem'), 'utf8')).trim(), fleet.rootCa.trim(), "the fleet's CA");
    const cfg = parseYaml(await readFile(join(persoDir, 'plugsrv.yaml'), 'utf8')) as { fleet: Record<string, unknown>; sync: Record<string, unknown> };
    t.match(cfg.fleet, { url: fleet.url, serial: 'SN-LINE-1', caFile: '/etc/plugsrv/fleet-ca.pem' });
    t.equal(cfg.sync.originUrl, 'https://origin.invalid/repo', 'the site template is kept');
  });

  await t.test('the token enrolls the agent once and only once', async (t) => {
    const tokenFile = join(persoDir, 'bootstrap-token');
    const envAgent = { PLUGSRV_FLEET_TOKEN_FILE: tokenFile, PLUGSRV_FLEET_CA_FILE: join(persoDir, 'fleet-ca.pem') };
    const token = (await readFile(tokenFile, 'utf8')).trim();
    // The unit's own plugsrv.yaml is valid for the agent (its schema is strict).
    const first = await runCli(['--config', join(persoDir, 'plugsrv.yaml'), '--data-dir', join(root, 'agent1'), 'fleet', 'enroll'], { env: envAgent });
    t.equal(first.code, 0, first.stderr);
    const again = join(root, 'token-again');
    await writeFile(again, `${token}\n`);
    const second = await runCli(['--config', join(persoDir, 'plugsrv.yaml'), '--data-dir', join(root, 'agent2'), 'fleet', 'enroll'], { env: { ...envAgent, PLUGSRV_FLEET_TOKEN_FILE: again } });
    t.equal(second.code, 2, second.stderr);
    t.match(second.stderr, /E_TOKEN_USED/);
    const devices = (await api(fleet, 'GET', `/v1/devices?dealerCode=${DEALER}`, { key })).json as { devices: { serial: string; status: string }[] };
    t.same(
      devices.devices.map((d) => [d.serial, d.status]),
      [['SN-LINE-1', 'active']],
    );
  });

  await t.test('ship, then a replacement retires the old device at the fleet and links both records', async (t) => {
    t.equal((await line(['units', 'ship', unitId])).code, 0);
    const newDisk = await disk('unit2.img');
    const r = await line(['replace', '--unit', 'SN-LINE-1', '--image', image, '--bmap', bmap, '--yes', '--target', newDisk, '--serial', 'SN-LINE-2', '--skip-burnin', 'RMA bench test', '--json']);
    t.equal(r.code, 0, r.stderr);
    const [out] = result<{ unitId: string; status: string; notes: string[] }>(r.stdout);
    t.equal(out?.status, 'ready');
    t.match(out?.notes.join(' '), /fleet: dev_\S+ retiring/);
    const old = JSON.parse((await line(['units', 'show', unitId, '--json'])).stdout) as { status: string; replacedByUnitId: string; deviceId: string };
    t.match(old, { status: 'replaced', replacedByUnitId: out?.unitId });
    const dev = (await api(fleet, 'GET', `/v1/devices/${old.deviceId}`, { key })).json as { status: string; commands?: { kind: string; state: string }[] };
    t.equal(dev.status, 'retiring', 'retired at the fleet: wiped when it next connects');
    const neu = JSON.parse((await line(['units', 'show', 'SN-LINE-2', '--json'])).stdout) as { replacesUnitId: string; orderId: string };
    t.match(neu, { replacesUnitId: unitId, orderId });
    const again = await line(['replace', '--unit', 'SN-LINE-1', '--image', image, '--bmap', bmap, '--yes', '--target', newDisk, '--serial', 'SN-LINE-2']);
    t.equal(again.code, 6, 'a replaced unit is not replaced twice');
  });

  await t.test('unit records export as CSV; the licence report comes from the fleet', async (t) => {
    const r = await line(['units', 'export', '--csv', '-']);
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\r\n');
    t.equal(lines.length, 3);
    t.match(lines[0], /^unit_id,order_id,serial,status/);
    t.match(r.stdout, /SN-LINE-1,replaced/);
    t.match(r.stdout, /SN-LINE-2,ready/);
    const month = new Date().toISOString().slice(0, 7);
    const rep = await line(['report', 'licences', '--from', month]);
    t.equal(rep.code, 0, rep.stderr);
    t.match(rep.stdout.split('\n')[0], /month/i, 'the fleet CSV header');
    const bad = await line(['report', 'licences', '--from', '2026-13']);
    t.equal(bad.code, 2);
  });
}
