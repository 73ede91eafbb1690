// Profiles: every shipped profile is valid and named after its file; errors name the file, the key path and the line.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultProfilesDir, listProfiles, loadProfile, parseProfile, HardwareError } from '../../../hardware/src/index.js';
import { tempDir } from '../../helpers/agent-process.js';

t.test('the shipped profiles: four Dell OptiPlex Micro models and qemu-virtual, all valid', async (t) => {
  const all = await listProfiles();
  t.same(all.map((p) => p.profile.id), ['dell-optiplex-3000-micro', 'dell-optiplex-5000-micro', 'dell-optiplex-7010-micro', 'dell-optiplex-7020-micro', 'qemu-virtual']);
  for (const { profile } of all.filter((p) => p.profile.id.startsWith('dell-'))) {
    t.same(profile.match.sysVendor, ['Dell Inc.'], `${profile.id} matches Dell units`);
    t.equal(profile.verified, false, `${profile.id} says its figures are not yet verified on a real unit`);
    t.equal(profile.requires.tpm?.version, '2.0');
    t.equal(profile.requires.nic?.minSpeedMbps, 1000);
    t.same(profile.requires.firmware, { uefi: true, secureBoot: 'enabled' });
    t.ok(profile.requires.usb3 && profile.requires.usb3.minPorts >= 4);
    t.same(profile.bios.map((b) => b.id), ['ac-power-recovery', 'wake-on-lan', 'boot-order', 'usb-boot-disabled', 'admin-password']);
    for (const step of ['smart', 'nic', 'tpm', 'rtc'] as const) t.equal(profile.burnin[step].required, true, `${profile.id}: ${step} is required on real hardware`);
    t.equal(profile.burnin.cpu.requireTemperature, true);
  }
  const qemu = all.find((p) => p.profile.id === 'qemu-virtual')!.profile;
  for (const step of ['smart', 'nic', 'tpm', 'rtc'] as const) t.equal(qemu.burnin[step].required, false, `qemu-virtual: ${step} is optional`);
  t.equal(qemu.burnin.cpu.requireTemperature, false);
  t.ok(all.every((p) => p.file.startsWith(defaultProfilesDir())));
});

t.test('loading by name, by path; an unknown name lists the known ones', async (t) => {
  t.equal((await loadProfile('dell-optiplex-7010-micro')).profile.name, 'Dell OptiPlex 7010 Micro');
  const dir = await tempDir(t);
  const file = join(dir, 'mine.yaml');
  await writeFile(file, (await import('node:fs')).readFileSync(join(defaultProfilesDir(), 'qemu-virtual.yaml'), 'utf8').replace('minSeqReadMBps: 15', 'minSeqReadMBps: 999999'));
  t.equal((await loadProfile(file)).profile.burnin.disk.minSeqReadMBps, 999999, 'a path loads that file (its id need not match its name)');
  await t.rejects(loadProfile('optiplex-9999'), { code: 'E_HW_PROFILE', message: /no hardware profile "optiplex-9999".*Known profiles: dell-optiplex-3000-micro, .*qemu-virtual/ });
  await t.rejects(loadProfile('Bad Name'), { code: 'E_HW_PROFILE', message: /not a profile name/ });
  await t.rejects(loadProfile(join(dir, 'missing.yaml')), { code: 'E_HW_PROFILE', message: /cannot read the hardware profile .*missing\.yaml/ });
});

const minimal = `version: 1
id: test-box
name: Test box
source: test
verified: true
match:
  sysVendor: [ACME]
  productName: [Box 1]
requires:
  memory:
    minGiB: 4
burnin:
  disk: { minSeqReadMBps: 1, minSeqWriteMBps: 1, minRandReadIops: 1, minRandWriteIops: 1 }
`;

t.test('a minimal profile gets the defaults', async (t) => {
  const p = parseProfile(minimal, 'test.yaml');
  t.equal(p.requires.memory?.tolerancePercent, 8);
  t.same(p.bios, []);
  t.match(p.burnin, { cpu: { required: true, maxTempC: 95 }, smart: { required: true, maxMediaErrors: 0 }, nic: { minSpeedMbps: 1000 }, iperf: { minMbps: 900 }, rtc: { maxDriftSeconds: 5 } });
});

t.test('errors name the file, the key path and its line, for each problem', async (t) => {
  const bad = minimal.replace('minGiB: 4', 'minGiB: four').replace('productName: [Box 1]', 'productName: [Box 1]\n  colour: red');
  const err = t.throws(() => parseProfile(bad, 'hardware/profiles/test-box.yaml')) as HardwareError;
  t.equal(err.code, 'E_HW_PROFILE');
  t.match(err.message, /^hardware\/profiles\/test-box\.yaml is not a valid hardware profile: /);
  t.match(err.message, /requires\.memory\.minGiB \(line 12\): Invalid input: expected number, received string/);
  t.match(err.message, /match\.colour \(line 9\): Unrecognized key: "colour"/);
  t.match(err.message, /Fix the file/);

  t.throws(() => parseProfile(minimal.replace('version: 1', 'version: 2'), 'p.yaml'), { message: /version \(line 1\)/ });
  t.throws(() => parseProfile(minimal.replace('  disk: {', '  disk: {{'), 'p.yaml'), { code: 'E_HW_PROFILE', message: /p\.yaml \(line \d+\) is not valid YAML/ });
  t.throws(() => parseProfile(`${minimal}bios:\n  - { id: a, title: A, howTo: x }\n  - { id: a, title: B, howTo: y }\n`, 'p.yaml'), { message: /bios\.1\.id \(line 16\): "a" appears twice/ });
  t.throws(() => parseProfile(`${minimal}bios:\n  - { id: a, title: A, howTo: x, efiBootFirst: '(' }\n`, 'p.yaml'), { message: /bios\.0\.efiBootFirst.*valid regular expression/ });
  t.throws(() => parseProfile(minimal.replace('sysVendor: [ACME]', 'sysVendor: []'), 'p.yaml'), { message: /match\.sysVendor \(line 7\)/ });
});
