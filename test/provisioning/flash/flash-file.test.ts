// Flashing file targets with a real image and a real bmaptool bmap: the mapped ranges equal the image, unmapped regions
// keep the target's old content, the result matches `bmaptool copy`, without a bmap the whole image, progress, the cache.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { flashTargets, isFlashProgressEvent, type FlashPlan, type ImageCheckCache } from '../../../provisioning/src/flash/index.js';
import type { ProgressEvent } from '../../../provisioning/src/progress.js';
import { allBytes, FILL, makeImage, makeTarget, MiB, missingTool, readRange, sha256File, tempDir, unmapped, yes } from './fixture.js';

const why = missingTool('bmaptool') ?? missingTool('sgdisk', ['--version']);
if (why) {
  t.plan(0, why);
} else {
  const dir = await tempDir(t);
  const img = await makeImage(dir);

  t.test('bmap of the test image: holes and data as built', async (t) => {
    t.ok(img.bmap.ranges.length >= 4, `${img.bmap.ranges.length} ranges`);
    t.ok(img.bmap.mappedBytes < img.bytes / 4, 'mostly holes');
    t.ok(img.bmap.mappedBytes > 9 * MiB, 'the random data is mapped');
  });

  t.test('flash to a file target: mapped ranges equal the image, unmapped keep their old content', async (t) => {
    const target = await makeTarget(join(dir, 'unit-a.img'), img.bytes + 4 * MiB);
    const events: ProgressEvent[] = [];
    const { confirm, calls } = yes();
    const report = await flashTargets({ image: img.image, bmap: img.bmapPath, manifest: img.manifest, targets: [target], confirm, progress: (e) => events.push(e), chunkBytes: 1 * MiB });
    t.equal(calls.length, 1, 'asked once');
    const plan = calls[0] as FlashPlan;
    t.match(plan, { image: { path: img.image, bytes: img.bytes, sha256: img.sha256 }, bmap: { path: img.bmapPath, mappedBytes: img.bmap.mappedBytes, sha256: img.bmapSha256 }, writeBytes: img.bmap.mappedBytes });
    t.same(plan.targets, [{ path: target, kind: 'file', sizeBytes: img.bytes + 4 * MiB }]);
    t.equal(report.results.length, 1);
    const r = report.results[0]!;
    t.match(r, { target, ok: true, bytesWritten: img.bmap.mappedBytes });
    t.ok(r.writeSeconds > 0 && r.verifySeconds > 0, 'timed');
    t.equal(report.image.sha256, img.sha256);
    t.equal(report.image.checkCached, false);
    for (const range of img.bmap.ranges) {
      const got = createHash('sha256').update(await readRange(target, range.offset, range.length)).digest('hex');
      t.equal(got, range.sha256, `range ${range.firstBlock}-${range.lastBlock}`);
    }
    for (const gap of unmapped(img.bmap, img.bytes + 4 * MiB)) {
      t.ok(allBytes(await readRange(target, gap.offset, gap.length), FILL), `unmapped bytes ${gap.offset}+${gap.length} untouched`);
    }
    const phases = new Set(events.map((e) => e.phase));
    t.same([...phases].sort(), ['verify-image', 'verify-target', 'write']);
    const lastWrite = events.filter((e) => e.phase === 'write').at(-1)!;
    t.match(lastWrite, { target, doneBytes: img.bmap.mappedBytes, totalBytes: img.bmap.mappedBytes });
    t.ok(isFlashProgressEvent(lastWrite) && lastWrite.bytesPerSecond > 0 && lastWrite.etaSeconds === 0, 'speed and ETA');
    t.equal(events.filter((e) => e.phase === 'verify-image').at(-1)?.doneBytes, img.bytes);
  });

  t.test('same bytes as `bmaptool copy`: on a zeroed target the whole disk equals bmaptool\'s copy and the image', async (t) => {
    const ours = join(dir, 'ours.img');
    await writeFile(ours, '');
    await truncate(ours, img.bytes);
    const theirs = join(dir, 'bmaptool.img');
    execFileSync('bmaptool', ['-q', 'copy', '--bmap', img.bmapPath, img.image, theirs]);
    await flashTargets({ image: img.image, bmap: img.bmapPath, manifest: img.manifest, targets: [ours], confirm: yes().confirm });
    const [a, b] = [await sha256File(ours), await sha256File(theirs)];
    t.equal(a, b, 'ours = bmaptool copy');
    t.equal(a, img.sha256, 'and both = the image (its holes read as zeros)');
    await rm(theirs);
    await rm(ours);
  });

  t.test('without a bmap the whole image is written and verified against the manifest sha256', async (t) => {
    const target = await makeTarget(join(dir, 'whole.img'), img.bytes + 8192);
    const report = await flashTargets({ image: img.image, manifest: img.manifest, targets: [target], confirm: yes().confirm, chunkBytes: 3 * MiB });
    t.match(report.results[0], { ok: true, bytesWritten: img.bytes });
    t.notOk(report.bmap);
    t.equal(await sha256File(target, 0, img.bytes), img.sha256);
    t.ok(allBytes(await readRange(target, img.bytes, 8192), FILL), 'past the image: untouched');
    await rm(target);
  });

  t.test('an image whose size is not a multiple of the block size: the last range is cut as bmaptool cuts it', async (t) => {
    const odd = await makeImage(await tempDir(t), { bytes: 8 * MiB + 1536, gpt: false, data: [[0, 5000], [8 * MiB - 100, 1636]], name: 'odd.raw' });
    const last = odd.bmap.ranges.at(-1)!;
    t.equal(last.offset + last.length, odd.bytes, 'ends at the image end');
    const target = await makeTarget(join(odd.dir, 't.img'), 9 * MiB);
    const report = await flashTargets({ image: odd.image, bmap: odd.bmapPath, manifest: odd.manifest, targets: [target], confirm: yes().confirm });
    t.match(report.results[0], { ok: true });
    t.equal(await sha256File(target, last.offset, odd.bytes), last.sha256);
    t.ok(allBytes(await readRange(target, odd.bytes, 9 * MiB - odd.bytes), FILL), 'the rest of the block after the image end is untouched');
  });

  t.test('the image pass is paid once with a cache; a changed image is checked again', async (t) => {
    const keys = new Set<string>();
    const cache: ImageCheckCache = { get: async (k) => keys.has(k), set: async (k) => void keys.add(k) };
    const target = await makeTarget(join(dir, 'cached.img'), img.bytes);
    const run = async (): Promise<{ cached: boolean; imageEvents: number }> => {
      const events: ProgressEvent[] = [];
      const r = await flashTargets({ image: img.image, bmap: img.bmapPath, manifest: img.manifest, targets: [target], confirm: yes().confirm, cache, progress: (e) => events.push(e) });
      t.equal(r.results[0]?.ok, true);
      return { cached: r.image.checkCached, imageEvents: events.filter((e) => e.phase === 'verify-image').length };
    };
    const first = await run();
    t.match(first, { cached: false });
    t.ok(first.imageEvents > 0);
    t.equal(keys.size, 1);
    t.match([...keys][0], new RegExp(`^flash-image-check/v1 dev=\\d+ ino=\\d+ size=${img.bytes} mtime=\\d+ ctime=\\d+ sha256=${img.sha256} bmap=${img.bmapSha256}$`));
    t.same(await run(), { cached: true, imageEvents: 0 });
    execFileSync('touch', [img.image]);
    t.match(await run(), { cached: false }, 'new mtime: a new pass');
    t.equal(keys.size, 2);
    await rm(target);
  });

  t.test('two targets in parallel, both written and verified', async (t) => {
    const targets = [await makeTarget(join(dir, 'p1.img'), img.bytes), await makeTarget(join(dir, 'p2.img'), img.bytes + MiB)];
    const report = await flashTargets({ image: img.image, bmap: img.bmapPath, manifest: img.manifest, targets, confirm: yes().confirm });
    t.same(
      report.results.map((r) => [r.target, r.ok]),
      targets.map((p) => [p, true]),
    );
    for (const p of targets) t.equal(await sha256File(p, img.bmap.ranges[0]!.offset, img.bmap.ranges[0]!.offset + img.bmap.ranges[0]!.length), img.bmap.ranges[0]!.sha256);
    for (const p of targets) await rm(p);
  });
}
