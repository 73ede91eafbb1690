// `npm run image:test`: the built appliance image (image/out/plugsrv-<version>.raw) copied onto an 8 GiB disk file and
// personalised as the production line does (an ext4 file system written into its `plugsrv-perso` partition without
// booting it), then booted twice in qemu with OVMF and a software TPM, on a tap device in a network namespace of its
// own, and checked from outside: the agent answers /healthz, only TCP 8080 is open, the box advertises itself with
// DNS-SD under the name the personalisation gave; then, with the guest powered off, its disk is read: the first-boot
// unit ran once and erased the personalisation partition, the data partition is LUKS2 sealed to the TPM and unlocked
// by it on both boots, the journal holds the agent's structured entries, the machine-id was committed to the
// read-only root.
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { packageRoot } from '../../lib/package-root.js';
import {
  accelerator,
  bootGuest,
  builtImage,
  freshArtifactsDir,
  imageExists,
  debugfsCat,
  debugfsDump,
  extractPartition,
  guestNetwork,
  partitions,
  startSwtpm,
  vmSkipReason,
  type Guest,
  type GuestNet,
} from '../helpers/vm.js';

const run = promisify(execFile);
const root = packageRoot();
const image = await builtImage(root, 'raw');
const UNIT_NAME = 'plugsrv-vmtest-unit';
const skip = await vmSkipReason();
if (skip) console.log(`# skipping the image boot test: ${skip}`);

/** Figures for the closing note, printed as TAP comments and written to image/out/boot-figures.json. */
const figures: Record<string, unknown> = { accelerator: accelerator() };

async function waitForHealth(net: GuestNet, guest: Guest, timeoutMs: number): Promise<{ ms: number; body: string }> {
  const until = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < until) {
    const exited = await Promise.race([guest.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 0))]);
    if (exited) break;
    try {
      const { stdout } = await net.exec('curl', ['-sS', '-f', '-m', '3', `http://${net.guestAddress}:8080/healthz`], 10_000);
      return { ms: guest.elapsed(), body: stdout };
    } catch (err) {
      lastError = (err as { stderr?: string }).stderr?.trim() ?? String(err);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const serial = await guest.serial();
  throw new Error(`the agent did not answer /healthz within ${timeoutMs} ms (last: ${lastError}). Serial console, last lines:\n${serial.split('\n').slice(-60).join('\n')}`);
}

interface JournalEntry {
  [field: string]: unknown;
  MESSAGE?: string;
  _BOOT_ID?: string;
  _SYSTEMD_UNIT?: string;
  SYSLOG_IDENTIFIER?: string;
}

/** What the production line does (issue 6 builds its tool): a small ext4 with the unit's files, written into the partition. */
async function personalise(disk: string, dir: string): Promise<void> {
  const perso = (await partitions(disk)).find((p) => p.name === 'plugsrv-perso');
  if (!perso) throw new Error('the image has no plugsrv-perso partition');
  const tree = join(dir, 'perso');
  await mkdir(join(tree, 'network'), { recursive: true });
  const defaults = await readFile(join(root, 'image', 'rootfs', 'usr', 'share', 'plugsrv', 'plugsrv.yaml'), 'utf8');
  await writeFile(join(tree, 'plugsrv.yaml'), defaults.replace(/^serve:\n/m, `serve:\n  advertiseName: ${UNIT_NAME}\n`));
  const hash = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'dist', 'agent', 'src', 'cli', 'main.js'), 'console', 'hash-password'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`hash-password exited ${code}`))));
    child.stdin.end('mot-de-passe-temporaire-vm\n');
  });
  await writeFile(join(tree, 'console-password'), hash, { mode: 0o600 });
  await writeFile(join(tree, 'bootstrap-token'), 'pbt_vmtest_not-a-real-token\n', { mode: 0o600 });
  await writeFile(join(tree, 'unit.json'), `${JSON.stringify({ dealerCode: '12345678', site: 'VM test' })}\n`);
  const fs = join(dir, 'perso.img');
  const mib = Math.floor((perso.lastSector - perso.firstSector + 1) / 2048);
  await run('mkfs.ext4', ['-q', '-L', 'plugsrv-perso', '-d', tree, fs, `${mib}M`]);
  await run('dd', [`if=${fs}`, `of=${disk}`, 'bs=512', `seek=${perso.firstSector}`, 'conv=notrunc', 'status=none']);
}

const text = (e: JournalEntry): string => (typeof e.MESSAGE === 'string' ? e.MESSAGE : Array.isArray(e.MESSAGE) ? Buffer.from(e.MESSAGE as number[]).toString() : '');

t.test('the appliance image boots, serves, and keeps everything else closed', skip ? { skip } : { timeout: 45 * 60_000 }, async (t) => {
  if (!imageExists(t, image, 'PLUGSRV_IMAGE_RAW')) return;
  const dir = await freshArtifactsDir(root, 'image-test');
  const overlay = join(dir, 'disk.raw');
  // The unit's disk is bigger than the image: the first boot makes the data partition on the rest (8 GiB here).
  await run('cp', ['--sparse=always', image, overlay]);
  await run('truncate', ['-s', '8G', overlay]);
  await personalise(overlay, dir);
  const net = await guestNetwork(t, dir);
  // swtpm ends with the VM that used it; each boot gets a new one over the same state (the sealed key survives).
  let tpm = await startSwtpm(dir);
  t.teardown(() => tpm.stop());
  let guest: Guest | undefined;
  t.teardown(() => guest?.kill());

  await t.test('first boot: the agent answers /healthz on the LAN address', async (t) => {
    guest = bootGuest({ disk: overlay, dir, net, tpmSocket: tpm.socket, label: 'boot1' });
    const health = await waitForHealth(net, guest, 15 * 60_000);
    figures.firstBootToServingSeconds = Math.round(health.ms / 100) / 10;
    t.comment(`first boot to serving: ${figures.firstBootToServingSeconds} s (${accelerator()})`);
    const body = JSON.parse(health.body) as { status?: string };
    t.ok(body.status !== undefined, `/healthz answers JSON with a status (${health.body.trim().slice(0, 200)})`);
  });

  await t.test('only TCP 8080 is open to the LAN; UDP probes get no answer', async (t) => {
    const started = Date.now();
    const { stdout } = await net.exec('nmap', ['-Pn', '-n', '-sS', '-p-', '--min-rate', '3000', '--max-retries', '1', '-oG', '-', net.guestAddress], 15 * 60_000);
    figures.tcpScanSeconds = Math.round((Date.now() - started) / 1000);
    const ports = /Ports: (.*?)(\t|$)/m.exec(stdout)?.[1] ?? '';
    const open = ports
      .split(', ')
      .filter((p) => p.split('/')[1] === 'open')
      .map((p) => Number(p.split('/')[0]));
    t.same(open, [8080], `open TCP ports: ${open.join(', ') || 'none'}`);
    t.match(stdout, /Ignored State: filtered \(65534\)/, 'every other TCP port is filtered (dropped), not even refused');
    const udp = await net.exec('nmap', ['-Pn', '-n', '-sU', '-p', '53,67,68,69,111,123,137,161,323,500,514,546,547,5353,5355', '--max-retries', '1', '-oG', '-', net.guestAddress], 10 * 60_000);
    const udpPorts = /Ports: (.*?)(\t|$)/m.exec(udp.stdout)?.[1] ?? '';
    const udpOpen = udpPorts.split(', ').filter((p) => p.split('/')[1] === 'open');
    t.same(udpOpen, [], `no UDP port answers (${udpPorts})`);
  });

  await t.test('the box advertises itself on the LAN with DNS-SD', async (t) => {
    const watcher = spawn('ip', ['netns', 'exec', net.ns, process.execPath, join(root, 'dist', 'test', 'helpers', 'dnssd-watch.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => watcher.kill('SIGTERM'));
    const found = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 60_000);
      watcher.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) {
          if (line.includes('"event":"up"')) {
            clearTimeout(timer);
            resolve(line);
          }
        }
      });
    });
    t.ok(found, `a _plugsrv._tcp service was seen from the LAN (${found ?? 'none within 60 s'})`);
    t.match(found ?? '', `"name":"${UNIT_NAME}"`, 'under the name the personalisation partition gave (the line\'s plugsrv.yaml was imported)');
  });

  await t.test('a clean power-off, then a second boot unlocks the same data partition', async (t) => {
    const g = guest!;
    const t0 = Date.now();
    await g.powerdown();
    figures.shutdownSeconds = Math.round((Date.now() - t0) / 100) / 10;
    tpm.stop();
    tpm = await startSwtpm(dir);
    guest = bootGuest({ disk: overlay, dir, net, tpmSocket: tpm.socket, label: 'boot2' });
    const health = await waitForHealth(net, guest, 10 * 60_000);
    figures.bootToServingSeconds = Math.round(health.ms / 100) / 10;
    t.comment(`second boot to serving: ${figures.bootToServingSeconds} s`);
    t.pass('the agent serves again after a reboot');
    await guest.powerdown();
    guest = undefined;
  });

  const raw = overlay;
  const parts = await partitions(raw);

  await t.test('the disk: partitions as designed, data LUKS2 sealed to the TPM with no other key', async (t) => {
    t.same(
      parts.map((p) => p.name),
      ['esp', 'root', 'var', 'plugsrv-perso', 'plugsrv-data'],
      'ESP, root, var, personalisation, and the data partition the first boot made',
    );
    const perso = parts.find((p) => p.name === 'plugsrv-perso');
    if (perso) {
      const persoImg = join(dir, 'perso-after.img');
      await extractPartition(raw, perso, persoImg);
      const blkid = await run('blkid', ['-p', persoImg]).then((r) => r.stdout, () => '');
      t.equal(blkid.trim(), '', 'the personalisation partition was erased after the import (it held a token and a password hash)');
    }
    const data = parts.find((p) => p.name === 'plugsrv-data');
    if (!data) return;
    t.ok((data.lastSector - data.firstSector) / 2048 > 4000, 'the data partition took the rest of the disk');
    const header = join(dir, 'data-header.img');
    await extractPartition(raw, data, header, 32);
    const { stdout } = await run('cryptsetup', ['luksDump', header]);
    t.match(stdout, /^Version:\s+2$/m, 'LUKS2');
    t.match(stdout, /systemd-tpm2/, 'a systemd-tpm2 token');
    const keyslots = (stdout.split(/^Keyslots:$/m)[1] ?? '').split(/^Tokens:$/m)[0] ?? '';
    t.equal((keyslots.match(/^\s+\d+: luks2$/gm) ?? []).length, 1, 'exactly one key slot: the TPM one (the random set-up key was wiped)');
    const rootImg = join(dir, 'root.img');
    const rootPart = parts.find((p) => p.name === 'root');
    if (!rootPart) return;
    await extractPartition(raw, rootPart, rootImg);
    t.match(await debugfsCat(rootImg, '/etc/machine-id'), /^[0-9a-f]{32}\n$/, 'the first boot committed a machine-id to the read-only root');
    t.match(await debugfsCat(rootImg, '/etc/fstab'), /^PARTUUID=\S+\s+\/\s+ext4\s+ro[,\s]/m, 'the root is mounted read-only');
    t.notOk(await debugfsCat(rootImg, '/usr/sbin/sshd').then((s) => s.length > 0), 'no sshd in the image');
    await rm(rootImg, { force: true });
  });

  await t.test('the journal: first boot once, TPM unlock on both boots, the agent structured entries', async (t) => {
    const varPart = parts.find((p) => p.name === 'var');
    if (!varPart) return t.fail('no var partition');
    const varImg = join(dir, 'var.img');
    await extractPartition(raw, varPart, varImg);
    const journalDir = join(dir, 'journal');
    await debugfsDump(varImg, '/log/journal', journalDir);
    const { stdout } = await run('journalctl', ['--directory', join(journalDir, 'journal'), '-o', 'json', '--no-pager', '--all'], { maxBuffer: 256 * 1024 * 1024 });
    const entries = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as JournalEntry);
    const boots = [...new Set(entries.map((e) => e._BOOT_ID))];
    t.equal(boots.length, 2, `two boots in the persistent journal (${entries.length} entries)`);
    const ofBoot = (i: number): JournalEntry[] => entries.filter((e) => e._BOOT_ID === boots[i]);
    t.ok(entries.some((e) => /plugsrv-firstboot: personalisation imported \(.*bootstrap-token.*console-password.*plugsrv\.yaml/.test(text(e))), 'the first boot imported the personalisation');
    const firstboot = entries.filter((e) => text(e).includes('plugsrv-firstboot: machine-id'));
    t.equal(firstboot.length, 1, 'the first-boot unit ran once');
    t.equal(firstboot[0]?._BOOT_ID, boots[0], '... on the first boot');
    const data = (i: number): string => ofBoot(i).filter((e) => text(e).startsWith('plugsrv-data:')).map(text).join('\n');
    t.match(data(0), /formatting LUKS2 and sealing it to the TPM/, 'boot 1: the data partition was made and sealed to the TPM');
    t.match(data(0), /unlocked with the TPM/, 'boot 1: unlocked with the TPM');
    t.match(data(1), /unlocked with the TPM/, 'boot 2: unlocked with the TPM');
    t.notMatch(data(1), /formatting/, 'boot 2: not formatted again');
    for (const i of [0, 1]) {
      const agent = ofBoot(i).filter((e) => e.SYSLOG_IDENTIFIER === 'plugsrv' && Object.keys(e).some((k) => k.startsWith('PLUGSRV_')));
      t.ok(agent.length > 0, `boot ${i + 1}: the agent's entries are structured (${agent.length} with PLUGSRV_* fields, e.g. "${agent[0] ? text(agent[0]) : ''}")`);
    }
    const failed = entries.filter((e) => /^Failed to start|entered failed state|Failed with result/.test(text(e))).map(text);
    figures.failedUnitMessages = failed;
    t.same(failed.filter((m) => /plugsrv|nftables|networkd|chrony/.test(m)), [], 'none of our units nor the firewall, network or time failed');
    if (failed.length > 0) t.comment(`other failures: ${failed.join(' | ')}`);
    const startup = entries.filter((e) => text(e).startsWith('Startup finished in')).map(text);
    figures.startupFinished = startup;
    for (const s of startup) t.comment(s);
    const exposure = entries.filter((e) => /^Overall exposure/.test(text(e)));
    if (exposure.length > 0) t.comment(exposure.map(text).join('\n'));
    t.equal((await debugfsCat(varImg, '/lib/plugsrv-local/etc/fleet/bootstrap-token')).trim(), 'pbt_vmtest_not-a-real-token', 'the bootstrap token waits where the agent reads it');
    t.match(await debugfsCat(varImg, '/lib/plugsrv-local/etc/console-password'), /^scrypt\$/, 'the console password hash is in place');
    await rm(varImg, { force: true });
  });

  await rm(raw, { force: true });
  await writeFile(join(root, 'image', 'out', 'boot-figures.json'), `${JSON.stringify(figures, null, 2)}\n`).catch(() => undefined);
  t.comment(`figures: ${JSON.stringify(figures)}`);
});
