// The read-back catches what the disk got wrong: one byte flipped after the write (the test hook) fails that target
// with E_VERIFY_FAILED naming the range, and only that target; without a bmap the whole-image hash catches it; abort.
import t from 'tap';
import { join } from 'node:path';
import { flashTargets, writeTarget } from '../../../provisioning/src/flash/index.js';
import { makeImage, makeTarget, MiB, missingTool, sha256File, tempDir, yes } from './fixture.js';

const why = missingTool('bmaptool') ?? missingTool('sgdisk', ['--version']);
if (why) {
  t.plan(0, why);
} else {
  const dir = await tempDir(t);
  const img = await makeImage(dir);
  const flip = async (handle: import('node:fs/promises').FileHandle, at: number): Promise<void> => {
    const b = Buffer.alloc(1);
    await handle.read(b, 0, 1, at);
    b[0] = (b[0] as number) ^ 0x01;
    await handle.write(b, 0, 1, at);
  };

  t.test('one byte flipped on one of two targets: that one fails E_VERIFY_FAILED, the other is fine', async (t) => {
    const good = await makeTarget(join(dir, 'good.img'), img.bytes);
    const bad = await makeTarget(join(dir, 'bad.img'), img.bytes);
    const range = img.bmap.ranges[2]!;
    const at = range.offset + 12345;
    const report = await flashTargets({
      image: img.image,
      bmap: img.bmapPath,
      manifest: img.manifest,
      targets: [bad, good],
      confirm: yes().confirm,
      beforeVerify: async (target, handle) => {
        if (target === bad) await flip(handle, at);
      },
    });
    const [b, g] = report.results;
    t.match(g, { target: good, ok: true });
    t.match(b, { target: bad, ok: false, bytesWritten: 0 });
    t.match(b?.error, {
      code: 'E_VERIFY_FAILED',
      message: new RegExp(`target .*bad\\.img: what was read back differs from the image at blocks ${range.firstBlock}-${range.lastBlock} \\(bytes ${range.offset}-${range.offset + range.length - 1}\\)\\. It is bad and must not be shipped`),
    });
  });

  t.test('without a bmap the whole-image hash catches a flipped byte', async (t) => {
    const target = await makeTarget(join(dir, 'whole.img'), img.bytes);
    await t.rejects(
      writeTarget({ image: img.image, imageBytes: img.bytes, target, imageSha256: img.sha256, beforeVerify: (h) => flip(h, img.bytes - 1) }),
      { code: 'E_VERIFY_FAILED', message: /differs from the image at bytes 0-67108863 \(the whole image\)\. It is bad and must not be shipped/ },
    );
  });

  t.test('two bad ranges are counted', async (t) => {
    const target = await makeTarget(join(dir, 'two.img'), img.bytes);
    await t.rejects(
      writeTarget({
        image: img.image,
        imageBytes: img.bytes,
        target,
        bmap: img.bmap,
        chunkBytes: 1 * MiB,
        beforeVerify: async (h) => {
          await flip(h, img.bmap.ranges[0]!.offset);
          await flip(h, img.bmap.ranges.at(-1)!.offset);
        },
      }),
      { code: 'E_VERIFY_FAILED', message: /at blocks? 0.* and 1 more range\(s\)/ },
    );
  });

  t.test('an abort stops the write between chunks', async (t) => {
    const target = await makeTarget(join(dir, 'abort.img'), img.bytes);
    const before = await sha256File(target);
    const ac = new AbortController();
    ac.abort(new Error('operator pressed Ctrl-C'));
    await t.rejects(writeTarget({ image: img.image, imageBytes: img.bytes, target, bmap: img.bmap, signal: ac.signal }), { message: 'operator pressed Ctrl-C' });
    t.equal(await sha256File(target), before, 'aborted before the first chunk: nothing written');
  });
}
