// The image pass (whole sha256 against the manifest, every range against the bmap), the manifest's expectations, and
// the pure helpers behind them.
import t from 'tap';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkImage, expectationFrom, readImageManifest, type Bmap, type ImageCheckCache } from '../../../provisioning/src/flash/index.js';
import { ProgressMeter, type FlashProgressEvent } from '../../../provisioning/src/flash/progress-meter.js';
import { pieces } from '../../../provisioning/src/flash/io.js';
import { makeImage, MiB, missingTool, tempDir } from './fixture.js';

const SHA = 'a'.repeat(64);

t.test('manifest: the image entry and the bmap entry, or what is wrong', async (t) => {
  const m = { outputs: [{ file: 'p.raw', sha256: SHA, bytes: 100 }, { file: 'p.raw.bmap', sha256: 'b'.repeat(64) }, { file: 'p.qcow2', sha256: 'c'.repeat(64), bytes: 5 }] };
  t.same(expectationFrom(m, 'm.json', 'p.raw', 100, 'p.raw.bmap'), { manifest: 'm.json', file: 'p.raw', sha256: SHA, bytes: 100, bmap: { file: 'p.raw.bmap', sha256: 'b'.repeat(64) } });
  t.same(expectationFrom(m, 'm.json', 'p.raw', 100, 'other.bmap'), { manifest: 'm.json', file: 'p.raw', sha256: SHA, bytes: 100 }, 'a bmap not listed: checked by the image pass only');
  t.throws(() => expectationFrom(m, 'm.json', 'p.raw', 101), { code: 'E_IMAGE_MISMATCH', message: /image p\.raw is 101 bytes .* but manifest m\.json says 100 .*truncated, still being copied, or from another build/ });
  t.throws(() => expectationFrom(m, 'm.json', 'x.raw', 100), { code: 'E_IMAGE_MISMATCH', message: /does not list x\.raw \(it lists p\.raw, p\.raw\.bmap, p\.qcow2\): it is the manifest of another build/ });
  t.throws(() => expectationFrom({ outputs: [{ file: 'p.raw', sha256: SHA }] }, 'm.json', 'p.raw', 100), { code: 'E_IMAGE_MISMATCH', message: /gives no size/ });
  t.throws(() => expectationFrom({ outputs: [{ file: 'p.raw', sha256: 'XYZ', bytes: 1 }] }, 'm.json', 'p.raw', 1), { code: 'E_IMAGE_MISMATCH', message: /outputs\[0\] is not \{file, sha256/ });
  t.throws(() => expectationFrom({ name: 'x' }, 'm.json', 'p.raw', 1), { code: 'E_IMAGE_MISMATCH', message: /no "outputs" list/ });
  t.throws(() => expectationFrom(null, 'm.json', 'p.raw', 1), { code: 'E_IMAGE_MISMATCH' });
});

t.test('pieces are cut at multiples of the chunk size', async (t) => {
  t.same(
    [...pieces([{ offset: 4096, length: 10 * MiB }, { offset: 20 * MiB, length: 4096 }], 4 * MiB)].map((p) => [p.offset, p.length, p.extent]),
    [
      [4096, 4 * MiB - 4096, 0],
      [4 * MiB, 4 * MiB, 0],
      [8 * MiB, 2 * MiB + 4096, 0],
      [20 * MiB, 4096, 1],
    ],
  );
});

t.test('progress meter: throttled, always the first and the last, speed and ETA from an injected clock', async (t) => {
  let now = 0;
  const events: FlashProgressEvent[] = [];
  const m = new ProgressMeter((e) => events.push(e as FlashProgressEvent), 'write', 1000, '/dev/sdb', () => now, 200);
  now = 100;
  m.add(100); // within the interval: not sent
  now = 1000;
  m.add(400);
  now = 2000;
  m.add(500);
  t.same(
    events.map((e) => [e.doneBytes, e.bytesPerSecond, e.etaSeconds]),
    [
      [0, 0, undefined],
      [500, 500, 1],
      [1000, 500, 0],
    ],
  );
  t.match(events[1], { phase: 'write', target: '/dev/sdb', totalBytes: 1000 });
});

const why = missingTool('bmaptool') ?? missingTool('sgdisk', ['--version']);
t.test('the image pass', { skip: why ?? false }, async (t) => {
  const dir = await tempDir(t);
  const img = await makeImage(dir);
  const expected = { sha256: img.sha256, bytes: img.bytes };
  const wrong = (i: number): Bmap => ({ ...img.bmap, ranges: img.bmap.ranges.map((r, j) => (j === i ? { ...r, sha256: '0'.repeat(64) } : r)) });

  t.test('whole sha256 and ranges', async (t) => {
    for (const chunkBytes of [MiB, 3 * MiB + 4096, 8 * MiB]) {
      const ok = await checkImage({ image: img.image, expected, bmap: img.bmap, chunkBytes });
      t.match(ok, { sha256: img.sha256, bytes: img.bytes, cached: false }, `good image, ${chunkBytes} byte chunks`);
    }
    await t.rejects(checkImage({ image: img.image, expected, bmap: wrong(2), bmapName: 'x.bmap' }), {
      code: 'E_BMAP',
      message: new RegExp(`bmap x\\.bmap: 1 of its ${img.bmap.ranges.length} ranges do not match image .*first: blocks ${img.bmap.ranges[2]!.firstBlock}-`),
    });
    await t.rejects(checkImage({ image: img.image, expected: { ...expected, sha256: SHA }, bmap: wrong(0) }), { code: 'E_IMAGE_MISMATCH' }, 'a wrong image is an image mismatch before a bmap one');
  });

  t.test('a truncated image; a failed pass is not cached', async (t) => {
    const keys: string[] = [];
    const cache: ImageCheckCache = { get: async () => false, set: async (k) => void keys.push(k) };
    const copy = join(dir, 'short.raw');
    await writeFile(copy, '');
    await truncate(copy, img.bytes - MiB);
    await t.rejects(checkImage({ image: copy, expected, cache }), { code: 'E_IMAGE_MISMATCH', message: /ends at byte 66060288, before the 67108864 bytes the manifest gives/ });
    await t.rejects(checkImage({ image: img.image, expected: { ...expected, sha256: SHA }, cache }), { code: 'E_IMAGE_MISMATCH' });
    t.same(keys, []);
    await checkImage({ image: img.image, expected, cache });
    t.equal(keys.length, 1, 'a passed check is');
  });

  t.test('readImageManifest reads the manifest beside the image', async (t) => {
    t.match(await readImageManifest(img.manifest, img.image, img.bytes, img.bmapPath), { sha256: img.sha256, bytes: img.bytes, bmap: { sha256: img.bmapSha256 } });
  });
});
