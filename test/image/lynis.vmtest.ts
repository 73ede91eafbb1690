// Part of `npm run image:test`: the Lynis hardening index measured inside the booted appliance image. The image has no
// shell access by design, so the audit comes in from outside: the image's own kernel, initrd and command line (read
// from its ESP) are booted directly with one extra `systemd.run=` that mounts a second disk carrying Debian's Lynis
// (the host's package files) and runs it; the report is written to that disk and read back after the power-off. The
// image itself is not changed. The same boot runs the unit burn-in (`plugsrv hw burnin --level quick`) first.
// About 15 min under TCG.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { packageRoot } from '../../lib/package-root.js';
import { accelerator, bootGuest, builtImage, debugfsCat, freshArtifactsDir, extractPartition, imageExists, guestNetwork, partitions, startSwtpm, vmSkipReason } from '../helpers/vm.js';

const run = promisify(execFile);
const root = packageRoot();
const image = await builtImage(root, 'qcow2');
/** Plain Debian 12 scores 60 (../shared/notes/image-feasibility.md); the goal is 85; measured 81, 83, then 86 on 2026-11-26. A drop below this fails. */
const HARDENING_FLOOR = Number(process.env.PLUGSRV_LYNIS_FLOOR ?? 75);
const GOAL = 85;

let skip = await vmSkipReason();
if (!skip && !existsSync('/usr/share/lynis/include')) skip = "Lynis is not installed on the host (its files are carried into the guest): apt-get install lynis";
if (!skip && process.env.PLUGSRV_SKIP_LYNIS === '1') skip = 'PLUGSRV_SKIP_LYNIS=1';
if (skip) console.log(`# skipping the Lynis audit of the image: ${skip}`);

t.test('Lynis audit inside the booted image', skip ? { skip } : { timeout: 60 * 60_000 }, async (t) => {
  if (!imageExists(t, image, 'PLUGSRV_IMAGE_QCOW2')) return;
  const dir = await freshArtifactsDir(root, 'image-lynis');

  // The image's boot entry, read from its ESP with mtools.
  const raw = join(dir, 'image.raw');
  await run('qemu-img', ['convert', '-O', 'raw', image, raw], { timeout: 600_000 });
  const esp = (await partitions(raw)).find((p) => p.name === 'esp');
  if (!esp) return t.fail('the image has no ESP');
  const espImg = join(dir, 'esp.img');
  await extractPartition(raw, esp, espImg);
  await rm(raw, { force: true });
  const entries = (await run('mdir', ['-b', '-i', espImg, '::/loader/entries'])).stdout.split('\n').filter((l) => l.endsWith('.conf'));
  t.equal(entries.length, 1, `one boot entry on the ESP (${entries.join(', ')})`);
  const entry = (await run('mtype', ['-i', espImg, entries[0]!])).stdout;
  const field = (name: string): string => new RegExp(`^${name}\\s+(.+)$`, 'm').exec(entry)?.[1]?.trim() ?? '';
  const kernel = join(dir, 'linux');
  const initrd = join(dir, 'initrd');
  await run('mcopy', ['-n', '-i', espImg, `::${field('linux')}`, kernel]);
  await run('mcopy', ['-n', '-i', espImg, `::${field('initrd')}`, initrd]);
  t.ok(field('options').includes(' ro'), `the entry boots the root read-only (${field('options')})`);

  // The audit disk: Lynis as Debian ships it, laid out as its own tree, and the script the guest runs.
  const audit = join(dir, 'audit');
  await mkdir(join(audit, 'lynis'), { recursive: true });
  await mkdir(join(audit, 'out'), { recursive: true });
  // Debian splits Lynis: include/ and db/ under /usr/share/lynis, plugins/ and the profile under /etc/lynis.
  for (const sub of ['include', 'db']) await cp(join('/usr/share/lynis', sub), join(audit, 'lynis', sub), { recursive: true });
  await cp('/etc/lynis/plugins', join(audit, 'lynis', 'plugins'), { recursive: true });
  await cp('/usr/sbin/lynis', join(audit, 'lynis', 'lynis'));
  await cp('/etc/lynis/default.prf', join(audit, 'lynis', 'default.prf'));
  await writeFile(
    join(audit, 'run.sh'),
    [
      '#!/bin/sh',
      '# systemd.run= makes this unit the boot target: bring the system up as usual first (agent, network, timers),',
      '# so the burn-in and the audit see the appliance as it runs.',
      'systemctl start multi-user.target',
      'systemctl start var-lib-plugsrv.mount',
      '# The NIC step reads the link: wait until networkd has the interface up (the line plugs a cable; here a tap).',
      '/lib/systemd/systemd-networkd-wait-online --timeout=120 || true',
      '/opt/plugsrv/bin/plugsrv hw burnin --profile qemu-virtual --level quick --out /mnt/out/burnin --scratch-dir /var/lib/plugsrv --json >/mnt/out/burnin.jsonl 2>/mnt/out/burnin.stderr',
      'echo "exit $?" >/mnt/out/burnin.done',
      'cd /mnt/lynis || exit 1',
      './lynis audit system --quick --no-colors --profile ./default.prf --logfile /mnt/out/lynis.log --report-file /mnt/out/report.dat >/mnt/out/stdout.txt 2>&1',
      'echo "exit $?" >/mnt/out/done',
      'systemctl list-units --failed --no-legend >/mnt/out/failed-units.txt 2>&1',
      'for u in plugsrv plugsrv-console plugsrv-data plugsrv-firstboot plugsrv-wipe plugsrv-reboot; do systemd-analyze security --no-pager $u.service | tail -n 1; done >/mnt/out/exposure.txt 2>&1',
      'ss -H -lntup >/mnt/out/listening.txt 2>&1',
      'systemctl status plugsrv.service --no-pager -l -n 20 >/mnt/out/agent-status.txt 2>&1',
      'cd / && sync && umount /mnt',
      'systemctl poweroff',
      '',
    ].join('\n'),
  );
  await chmod(join(audit, 'run.sh'), 0o755);
  const auditImg = join(dir, 'audit.img');
  await run('mkfs.ext4', ['-q', '-L', 'audit', '-d', audit, auditImg, '256M']);

  const overlay = join(dir, 'disk.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', image, overlay, '8G']);
  const net = await guestNetwork(t, dir);
  const tpm = await startSwtpm(dir);
  t.teardown(() => tpm.stop());
  const append = `${field('options')} systemd.run="/bin/sh -c 'mount /dev/vdb /mnt && exec /bin/sh /mnt/run.sh'"`;
  const started = Date.now();
  const guest = bootGuest({ disk: overlay, dir, net, tpmSocket: tpm.socket, label: 'lynis', direct: { kernel, initrd, append }, extraDisks: [auditImg] });
  t.teardown(() => guest.kill());
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 50 * 60_000).unref());
  if ((await Promise.race([guest.exited, timeout])) === 'timeout') {
    const serial = await guest.serial();
    return t.fail(`the audit did not finish within 50 min. Serial console, last lines:\n${serial.split('\n').slice(-40).join('\n')}`);
  }
  const minutes = Math.round((Date.now() - started) / 6000) / 10;

  const done = await debugfsCat(auditImg, '/out/done');
  t.match(done, /^exit 0/, `Lynis ran to the end inside the guest (${done.trim() || 'no exit status: see serial-lynis.log'})`);
  const report = await debugfsCat(auditImg, '/out/report.dat');
  const index = Number(/^hardening_index=(\d+)$/m.exec(report)?.[1] ?? NaN);
  const tests = /^lynis_tests_done=(\d+)$/m.exec(report)?.[1] ?? '?';
  const warnings = report.split('\n').filter((l) => l.startsWith('warning[]=')).map((l) => l.slice('warning[]='.length));
  const suggestions = report.split('\n').filter((l) => l.startsWith('suggestion[]=')).map((l) => l.slice('suggestion[]='.length));
  t.comment(`Lynis hardening index ${index} (goal ${GOAL}, plain Debian 60), ${tests} tests, ${warnings.length} warnings, ${suggestions.length} suggestions, ${minutes} min (${accelerator()})`);
  for (const w of warnings) t.comment(`warning: ${w}`);
  for (const s of suggestions) t.comment(`suggestion: ${s}`);
  t.comment(`exposure inside the image:\n${(await debugfsCat(auditImg, '/out/exposure.txt')).trim()}`);
  t.comment(`failed units: ${(await debugfsCat(auditImg, '/out/failed-units.txt')).trim() || 'none'}`);
  const listening = (await debugfsCat(auditImg, '/out/listening.txt')).trim();
  t.comment(`listening sockets:\n${listening}`);
  t.comment(`the agent during the audit:\n${(await debugfsCat(auditImg, '/out/agent-status.txt')).trim()}`);
  t.match(listening, /:8080 /, 'the agent was serving on 8080 while the audit ran (the audit saw the running appliance)');
  const burnin = await debugfsCat(auditImg, '/out/burnin.done');
  const events = (await debugfsCat(auditImg, '/out/burnin.jsonl'))
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event: string; id?: string; status?: string; message?: string; verdict?: string; durationSeconds?: number });
  const verdict = events.find((e) => e.event === 'burnin-done');
  const steps = events.filter((e) => e.event === 'step-done');
  for (const e of steps) t.comment(`burn-in ${e.id}: ${e.status} (${e.durationSeconds} s) ${e.message ?? ''}`);
  t.ok(verdict, `plugsrv hw burnin --profile qemu-virtual --level quick ran to the end inside the image (${burnin.trim()}, verdict ${verdict?.verdict ?? 'none'} in ${verdict?.durationSeconds ?? '?'} s; stderr: ${(await debugfsCat(auditImg, '/out/burnin.stderr')).trim().slice(0, 300)})`);
  // The profile's required steps must pass; its optional ones (SMART, NIC link, TPM, RTC, iperf on a VM) are reported.
  const reportName = (await run('debugfs', ['-R', 'ls /out/burnin', auditImg])).stdout.split(/\s+/).find((n) => n.endsWith('.json'));
  const burninReport = reportName ? (JSON.parse(await debugfsCat(auditImg, `/out/burnin/${reportName}`)) as { steps: Array<{ id: string; required: boolean; status: string; message: string }> }) : { steps: [] };
  const required = burninReport.steps.filter((s) => s.required);
  t.ok(required.length >= 4, `the burn-in report lists its required steps (${required.map((s) => s.id).join(', ')})`);
  for (const step of required) {
    // iperf is required by the profile only when the line gives its server (--iperf-server); here there is none.
    const notRequested = step.status === 'skipped' && /not requested/.test(step.message);
    t.ok(step.status === 'pass' || notRequested, `required burn-in step ${step.id}: ${step.status} in the image (${step.message})`);
  }
  t.ok(index >= HARDENING_FLOOR, `hardening index ${index} is at least the committed floor ${HARDENING_FLOOR}`);
  if (index < GOAL) t.comment(`below the goal of ${GOAL}: see the suggestions above`);
  await writeFile(join(dir, 'lynis-figures.json'), `${JSON.stringify({ index, tests, warnings, suggestions, minutes }, null, 2)}\n`);
  await rm(overlay, { force: true });
});
