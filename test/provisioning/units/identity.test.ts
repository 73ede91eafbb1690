// The unit's identity from a fixture machine's inventory, and the TPM endorsement key's hash from a real swtpm.
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import t from 'tap';
import { identityFromInventory, tpmEkSha256 } from '../../../provisioning/src/units/index.js';
import { tempDir } from '../../helpers/agent-process.js';
import { identityOf } from '../../../provisioning/src/produce/index.js';
import { fixtureInventory, fixtureRoot } from '../../helpers/hardware.js';

const execFileP = promisify(execFile);

t.test('serial, MACs and the disk serial from a Dell fixture', async (t) => {
  const inv = await fixtureInventory('dell-optiplex-7010-micro');
  const id = identityFromInventory(inv);
  t.equal(id.serial, inv.dmi.productSerial);
  t.ok(id.serial.length > 0, 'the fixture has a service tag');
  t.same(id.macs, inv.nics.filter((n) => n.mac).map((n) => n.mac?.toLowerCase()).sort());
  t.equal(id.diskSerial, inv.disks.find((d) => !d.removable)?.serial ?? null);
  const named = identityFromInventory(inv, `/dev/${inv.disks[0]?.name}`);
  t.equal(named.diskSerial, inv.disks[0]?.serial ?? null, 'the target disk is the one recorded');
});

function listen(port: number): Promise<ReturnType<typeof createServer> | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

/** A port the OS gave whose next port is free too (swtpm's TCTI reaches the control channel at port + 1). */
t.test('--detect on the unit: the DMI serial, a serial that differs from it refused, no TPM noted', async (t) => {
  const root = fixtureRoot('dell-optiplex-7010-micro');
  const inv = await fixtureInventory('dell-optiplex-7010-micro');
  const { identity } = await identityOf({ detectRoot: root, tpmTcti: 'none' });
  t.equal(identity.serial, inv.dmi.productSerial);
  t.ok(identity.inventory, 'the inventory is kept with the record');
  await t.rejects(identityOf({ detectRoot: root, serial: 'OTHER123', tpmTcti: 'none' }), { code: 'E_USAGE', message: /differs from the unit's DMI serial/ });
  const noTpm = await identityOf({ detectRoot: fixtureRoot('dell-optiplex-5000-micro-no-tpm'), tpmTcti: 'none' });
  t.same(noTpm.notes, ['no TPM detected']);
  t.equal(noTpm.identity.tpmEkSha256, null);
  await t.rejects(identityOf({}), { code: 'E_USAGE', message: /needs its serial/ });
});

async function freePortPair(): Promise<number> {
  for (;;) {
    const a = await listen(0);
    if (!a) continue;
    const port = (a.address() as { port: number }).port;
    const b = port < 65535 ? await listen(port + 1) : null;
    await new Promise((r) => a.close(r));
    if (b) {
      await new Promise((r) => b.close(r));
      return port;
    }
  }
}

const missing = await Promise.all(
  ['swtpm', 'tpm2_createek'].map(async (tool) => {
    try {
      await execFileP(tool, ['--version']);
      return undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? tool : undefined;
    }
  }),
);
const why = missing.filter(Boolean).join(', ');

t.test('the EK hash of a software TPM is stable, and absent without a TPM', { skip: why ? `${why} not installed (apt-get install swtpm tpm2-tools)` : false }, async (t) => {
  const dir = await tempDir(t, 'plugsrv-swtpm-');
  // Two ports the OS gave (swtpm's TCP server and its control channel); released just before swtpm binds them.
  const port = await freePortPair();
  const ctrl = port + 1;
  const tpm = spawn('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${dir}`, '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`, '--ctrl', `type=tcp,port=${ctrl},bindaddr=127.0.0.1`, '--flags', 'not-need-init,startup-clear'], { stdio: 'ignore' });
  t.teardown(() => {
    tpm.kill();
  });
  const tcti = `swtpm:host=127.0.0.1,port=${port}`;
  let first: Awaited<ReturnType<typeof tpmEkSha256>> = { sha256: null, note: 'not started' };
  for (let i = 0; i < 50 && first.sha256 === null; i++) {
    await new Promise((r) => setTimeout(r, 100));
    first = await tpmEkSha256(tcti);
  }
  t.match(first.sha256, /^[0-9a-f]{64}$/, first.note ?? '');
  const second = await tpmEkSha256(tcti);
  t.equal(second.sha256, first.sha256, 'the same TPM gives the same EK');
  const none = await tpmEkSha256(`swtpm:host=127.0.0.1,port=${await freePortPair()}`);
  t.equal(none.sha256, null);
  t.match(none.note, /no TPM endorsement key read/);
});
