// `npm run image:test`: the built appliance image (image/out/plugsrv-<version>.raw) flashed onto an 8 GiB disk file and
// personalised by the production line itself (`plugsrv-line produce`, with a bootstrap token from a fleet running in
// the guest's namespace), then booted twice in qemu with OVMF and a software TPM, on a tap device in a network namespace of its
// own, and checked from outside: the agent answers /healthz, only TCP 8080 is open, the box advertises itself with
// DNS-SD under the name the personalisation gave, and enrolls at the fleet; then, with the guest powered off, its disk is read: the first-boot
// unit ran once and erased the personalisation partition, the data partition is LUKS2 sealed to the TPM and unlocked
// by it on both boots, the journal holds the agent's structured entries, the machine-id was committed to the
// read-only root.
import { execFile, spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { packageRoot } from '../../lib/package-root.js';
import { parsePasswordHash, verifyPassword } from '../../agent/src/console/index.js';
import { cleanFleetEnv, createKey, FLEET_CLI } from '../helpers/fleet-process.js';
import { spawnServing, type ServingProcess } from '../helpers/serving-process.js';
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

const LINE_CLI = join(root, 'dist', 'provisioning', 'src', 'cli', 'main.js');
const SERIAL = 'VMTEST-0001';

interface LineSetup {
  fleet: ServingProcess;
  fleetUrl: string;
  key: string;
  caFile: string;
  /** The dealer letter's temporary password. */
  password: string;
}

/**
 * The production line for real: a fleet inside the guest's namespace (on 10.213.0.1:443, the only way out the
 * box's firewall allows), an order imported, then `plugsrv-line produce` flashes the image onto the unit's disk
 * file by its bmap and personalises it (a bootstrap token minted at that fleet, the console password, the site's
 * agent settings), as on the integrator's bench.
 */
async function produceUnit(disk: string, dir: string, net: GuestNet): Promise<LineSetup> {
  const fleetDir = join(dir, 'fleet');
  const key = await createKey(fleetDir, 'provision', 'line');
  const fleet = await spawnServing(
    'plugsrv-fleet serve',
    ['netns', 'exec', net.ns, process.execPath, FLEET_CLI, '--data-dir', fleetDir, 'serve', '--host', net.hostAddress, '--port', '443', '--public-name', net.hostAddress],
    cleanFleetEnv(),
    60_000,
    'ip',
  );
  const fleetUrl = `https://${net.hostAddress}`;
  const caFile = join(fleetDir, 'ca', 'root.pem');
  const csv = join(dir, 'orders.csv');
  await writeFile(csv, 'order_ref,dealer_code,site,quantity,contact_email,delivery_address\nPO-VM-1,12345678,VM test,1,it@dealer.example,1 rue du Test 69001 Lyon\n');
  const defaults = await readFile(join(root, 'image', 'rootfs', 'usr', 'share', 'plugsrv', 'plugsrv.yaml'), 'utf8');
  const template = join(dir, 'unit-template.yaml');
  await writeFile(template, defaults.replace(/^serve:\n/m, `serve:\n  advertiseName: ${UNIT_NAME}\n`));
  const line = (args: string[]) =>
    run('ip', ['netns', 'exec', net.ns, process.execPath, LINE_CLI, '--data-dir', join(dir, 'line'), '--fleet-url', fleetUrl, '--fleet-ca', caFile, '--operator', 'vmtest', ...args], {
      env: { ...cleanFleetEnv(), PLUGSRV_FLEET_API_KEY: key, PLUGSRV_LINE_UNIT_SITE_TEMPLATE: template },
      timeout: 20 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  await line(['orders', 'import', csv]);
  const started = Date.now();
  const { stdout } = await line(['produce', '--order', 'PO-VM-1', '--image', image, '--bmap', `${image}.bmap`, '--target', disk, '--serial', SERIAL, '--skip-burnin', 'VM test: no hardware', '--yes', '--json']);
  figures.lineProduceSeconds = Math.round((Date.now() - started) / 1000);
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { units: { unitId: string; status: string }[] };
  const unit = result.units[0];
  if (unit?.status !== 'ready') throw new Error(`plugsrv-line produce did not make the unit ready: ${stdout.slice(-2000)}`);
  const letter = await readFile(join(dir, 'line', 'documents', 'PO-VM-1', `${unit.unitId}-letter-fr.txt`), 'utf8');
  const password = /\b([bcdefghjknprstuvx]{16})\b/.exec(letter)?.[1] ?? '';
  return { fleet, fleetUrl, key, caFile, password };
}

const text = (e: JournalEntry): string => (typeof e.MESSAGE === 'string' ? e.MESSAGE : Array.isArray(e.MESSAGE) ? Buffer.from(e.MESSAGE as number[]).toString() : '');

t.test('the appliance image boots, serves, and keeps everything else closed', skip ? { skip } : { timeout: 45 * 60_000 }, async (t) => {
  if (!imageExists(t, image, 'PLUGSRV_IMAGE_RAW')) return;
  const dir = await freshArtifactsDir(root, 'image-test');
  const overlay = join(dir, 'disk.raw');
  // The unit's disk is bigger than the image: the first boot makes the data partition on the rest (8 GiB here).
  await run('truncate', ['-s', '8G', overlay]);
  const net = await guestNetwork(t, dir);
  const setup = await produceUnit(overlay, dir, net);
  t.teardown(() => setup.fleet.kill());
  t.comment(`plugsrv-line produce (flash by bmap + verify + personalise): ${String(figures.lineProduceSeconds)} s`);
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

  await t.test('the box enrolled at the fleet with the token the line minted for its serial', async (t) => {
    const until = Date.now() + 10 * 60_000;
    let last = '';
    let device: { id: string; serial: string; status: string; online: boolean; dealerCode: string } | undefined;
    while (Date.now() < until && !device?.online) {
      const r = await net.exec('curl', ['-sS', '-m', '5', '--cacert', setup.caFile, '-H', `Authorization: Bearer ${setup.key}`, `${setup.fleetUrl}/v1/devices`]).catch((e: { stderr?: string }) => ({ stdout: '', stderr: e.stderr ?? '' }));
      last = r.stdout || r.stderr;
      device = (JSON.parse(r.stdout || '{"devices":[]}') as { devices: NonNullable<typeof device>[] }).devices.find((d) => d.serial === SERIAL);
      if (!device?.online) await new Promise((res) => setTimeout(res, 3000));
    }
    figures.enrolledAfterSeconds = guest ? Math.round(guest.elapsed() / 1000) : null;
    t.match(device, { serial: SERIAL, dealerCode: '12345678', status: 'active', online: true }, `the fleet lists the unit online (last answer: ${last.slice(0, 300)})`);
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
    const auditRules = entries.filter((e) => /audit_enabled=2|enabled=2 old/.test(text(e)));
    t.ok(auditRules.length >= 2, `the audit rules were loaded and locked (-e 2) on both boots (${auditRules.length} entries)`);
    const startup = entries.filter((e) => text(e).startsWith('Startup finished in')).map(text);
    figures.startupFinished = startup;
    for (const s of startup) t.comment(s);
    const exposure = entries.filter((e) => /^Overall exposure/.test(text(e)));
    if (exposure.length > 0) t.comment(exposure.map(text).join('\n'));
    const token = await debugfsCat(varImg, '/lib/plugsrv-local/etc/fleet/bootstrap-token').catch(() => '');
    t.equal(token.trim(), '', 'the single-use bootstrap token was deleted once the box enrolled');
    const hash = parsePasswordHash(await debugfsCat(varImg, '/lib/plugsrv-local/etc/console-password'));
    t.ok(await verifyPassword(setup.password, hash), "the console password is the one in the line's dealer letter");
    t.match(await debugfsCat(varImg, '/lib/plugsrv-local/etc/fleet-ca.pem'), /BEGIN CERTIFICATE/, "the fleet's CA the line wrote is in place");
    t.match(await debugfsCat(varImg, '/lib/plugsrv-local/etc/unit.json'), new RegExp(`"serial": "${SERIAL}"`), 'the unit record is on the box');
    await rm(varImg, { force: true });
  });

  await rm(raw, { force: true });
  await writeFile(join(root, 'image', 'out', 'boot-figures.json'), `${JSON.stringify(figures, null, 2)}\n`).catch(() => undefined);
  t.comment(`figures: ${JSON.stringify(figures)}`);
});
