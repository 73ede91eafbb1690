// Real block devices (root only): flashing a loop device, refusing a mounted loop device and the file behind it, and the
// facts of the disk this machine runs from (facts and refusal only: the write path is never pointed at it).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readlinkSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { devNumberOf, flashTargets, refusal, targetFacts, writeTarget, type FlashPlan } from '../../../provisioning/src/flash/index.js';
import { allBytes, FILL, makeImage, makeTarget, MiB, missingTool, readRange, sha256File, unmapped, yes } from './fixture.js';

const why =
  process.getuid?.() !== 0 ? 'needs root for loop devices and mounts (CI runs as root)' : (missingTool('bmaptool') ?? missingTool('sgdisk', ['--version']) ?? missingTool('losetup') ?? missingTool('mkfs.ext4', ['-V']) ?? missingTool('blockdev', ['--version']));

/** Loop devices and mounts made here, undone in teardown: unmount first, then detach, then remove the files. */
class Cleanup {
  readonly mounts: string[] = [];
  readonly loops: string[] = [];
  constructor(readonly dir: string) {}
  run(): void {
    for (const m of this.mounts.reverse()) {
      try {
        execFileSync('umount', [m], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', m], { stdio: 'pipe' });
      }
    }
    for (const l of this.loops) {
      try {
        execFileSync('losetup', ['-d', l], { stdio: 'pipe' });
      } catch {
        // already detached
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function attach(file: string, c: Cleanup): string | { skip: string } {
  try {
    const dev = execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8', stdio: 'pipe' }).trim();
    c.loops.push(dev);
    return dev;
  } catch (err) {
    return { skip: `losetup failed here (${(err as Error).message.split('\n')[0]})` };
  }
}

if (why) {
  t.plan(0, why);
} else {
  const c = new Cleanup(await mkdtemp(join(tmpdir(), 'plugsrv-flash-block-')));
  t.teardown(() => c.run());
  const img = await makeImage(c.dir);

  t.test('flashing a loop block device: written, flushed, read back; unmapped blocks keep their content', async (t) => {
    const backing = await makeTarget(join(c.dir, 'loop-target.img'), img.bytes + 2 * MiB);
    const dev = attach(backing, c);
    if (typeof dev !== 'string') {
      t.plan(0, dev.skip);
      return;
    }
    const { confirm, calls } = yes();
    const report = await flashTargets({ image: img.image, bmap: img.bmapPath, manifest: img.manifest, targets: [dev], confirm });
    t.match(report.results[0], { target: dev, ok: true, bytesWritten: img.bmap.mappedBytes });
    t.match((calls[0] as FlashPlan).targets, [{ path: dev, kind: 'block', sizeBytes: img.bytes + 2 * MiB, description: `loop device on ${backing}` }]);
    for (const r of img.bmap.ranges) t.equal(createHash('sha256').update(await readRange(dev, r.offset, r.length)).digest('hex'), r.sha256, `range ${r.firstBlock}-${r.lastBlock} on ${dev}`);
    let flushed = 0;
    const again = await writeTarget({ image: img.image, imageBytes: img.bytes, target: dev, bmap: img.bmap, chunkBytes: MiB, syncEveryBytes: MiB, flushBuffers: async (d) => void (flushed += d === dev ? 1 : 0) });
    t.equal(again.bytesWritten, img.bmap.mappedBytes, 'again, small chunks and a sync every MiB: verified');
    t.equal(flushed, 1, 'block device buffers dropped once before the read-back');
    execFileSync('losetup', ['-d', dev]);
    c.loops.splice(c.loops.indexOf(dev), 1);
    for (const r of img.bmap.ranges) t.equal(createHash('sha256').update(await readRange(backing, r.offset, r.length)).digest('hex'), r.sha256, `range ${r.firstBlock}-${r.lastBlock} in the backing file`);
    for (const gap of unmapped(img.bmap, img.bytes + 2 * MiB)) t.ok(allBytes(await readRange(backing, gap.offset, gap.length), FILL), `unmapped ${gap.offset}+${gap.length} untouched`);
  });

  t.test('a mounted loop device, and the file behind it: E_TARGET_MOUNTED, nothing written', async (t) => {
    const fsFile = join(c.dir, 'ext4.img');
    await makeTarget(fsFile, 80 * MiB, 0);
    execFileSync('mkfs.ext4', ['-q', '-F', fsFile], { stdio: 'pipe' });
    const dev = attach(fsFile, c);
    if (typeof dev !== 'string') {
      t.plan(0, dev.skip);
      return;
    }
    const mnt = join(c.dir, 'mnt');
    await mkdir(mnt);
    try {
      execFileSync('mount', ['-o', 'ro', dev, mnt], { stdio: 'pipe' });
    } catch (err) {
      t.plan(0, `cannot mount here (${(err as Error).message.split('\n')[0]})`);
      return;
    }
    c.mounts.push(mnt);
    const before = await sha256File(fsFile);
    for (const target of [dev, fsFile]) {
      const { confirm, calls } = yes();
      await t.rejects(flashTargets({ image: img.image, bmap: img.bmapPath, manifest: img.manifest, targets: [target], confirm }), {
        code: 'E_TARGET_MOUNTED',
        message: new RegExp(`target ${target} is in use: ${target === fsFile ? `loop device ${dev} on this file: ` : ''}${dev} is mounted on ${mnt} \\(ext4\\)\\. Nothing was written`),
      });
      t.equal(calls.length, 0, `${basename(target)}: not asked`);
    }
    const facts = await targetFacts(dev);
    t.equal(facts.busy, true, 'an exclusive open is refused too');
    t.equal(await sha256File(fsFile), before, 'nothing written');
  });

  t.test('the disk this machine runs from is reported as the system disk (facts and refusal only)', async (t) => {
    const rootDev = devNumberOf((await stat('/', { bigint: true })).dev);
    const link = `/sys/dev/block/${rootDev}`;
    if (!existsSync(link)) {
      t.plan(0, `/ is not on a block device here (device ${rootDev}: overlay, tmpfs or a container)`);
      return;
    }
    const node = join('/sys/dev/block', readlinkSync(link));
    const diskName = existsSync(join(link, 'partition')) ? basename(dirname(node)) : basename(node);
    const slaves = existsSync(join(link, 'slaves')) ? execFileSync('ls', [join(link, 'slaves')], { encoding: 'utf8' }).trim() : '';
    const path = slaves ? `/dev/${basename(node)}` : `/dev/${diskName}`;
    if (!existsSync(path)) {
      t.plan(0, `${path} has no device node here`);
      return;
    }
    const facts = await targetFacts(path);
    t.ok(facts.systemDisk.length > 0, `${path}: ${facts.systemDisk.join('; ')}`);
    t.match(facts.systemDisk.join('\n'), /it holds the root filesystem \//);
    t.match(refusal(facts, img.bytes), { code: 'E_TARGET_SYSTEM_DISK', message: /the disk this computer runs from/ });
  });
}
