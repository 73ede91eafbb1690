// Bad inputs are refused before anything is written (the targets hash the same before and after) and before the
// operator is asked: a wrong bmap, an image that is not the manifest's, a target too small or missing, one bad target
// among several, the image itself as a target; and a "no" from the operator.
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { flashTargets, type FlashTargetsOptions } from '../../../provisioning/src/flash/index.js';
import { makeImage, makeTarget, MiB, missingTool, sha256File, tempDir, yes } from './fixture.js';

const why = missingTool('bmaptool') ?? missingTool('sgdisk', ['--version']);
if (why) {
  t.plan(0, why);
} else {
  const dir = await tempDir(t);
  const img = await makeImage(dir);
  const other = await makeImage(await tempDir(t), { name: 'plugsrv-test.raw', data: [[2 * MiB, 4 * MiB], [30 * MiB, 1 * MiB]] });
  const targetA = await makeTarget(join(dir, 'unit-a.img'), img.bytes);
  const targetB = await makeTarget(join(dir, 'unit-b.img'), img.bytes);
  const before = { a: await sha256File(targetA), b: await sha256File(targetB) };

  /** Runs a flash expected to fail with `code` and a message matching `message`; checks that nothing was asked or written. */
  const refused = async (t: Test, o: Partial<FlashTargetsOptions>, code: string, message: RegExp): Promise<void> => {
    const { confirm, calls } = yes();
    await t.rejects(flashTargets({ image: img.image, bmap: img.bmapPath, manifest: img.manifest, targets: [targetA], confirm, ...o }), { code, message });
    t.equal(calls.length, 0, 'the operator was not asked');
    t.equal(await sha256File(targetA), before.a, 'target A unchanged');
    t.equal(await sha256File(targetB), before.b, 'target B unchanged');
  };

  /** A copy of the image's bmap edited by `edit`, written next to it under a name the manifest does not list. */
  const editedBmap = async (name: string, edit: (xml: string) => string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, edit(await readFile(img.bmapPath, 'utf8')));
    return path;
  };

  t.test('a tampered range checksum with a recomputed file checksum: the image pass refuses it (E_BMAP)', async (t) => {
    const r = img.bmap.ranges[1]!;
    const path = await editedBmap('range.bmap', (xml) => {
      const tampered = xml.replace(r.sha256, '0'.repeat(63) + '1');
      // Recompute BmapFileChecksum as bmaptool does, so only the range check can catch it.
      const declared = /<BmapFileChecksum>\s*([0-9a-f]{64})\s*</.exec(tampered)![1]!;
      const zeroed = tampered.replace(declared, '0'.repeat(64));
      return tampered.replace(declared, createHashHex(zeroed));
    });
    await refused(t, { bmap: path }, 'E_BMAP', /bmap .*range\.bmap: 1 of its \d+ ranges do not match image .*\(first: blocks? \d+.*\): it is not the bmap of this image\. Nothing was written/);
  });

  t.test('a tampered BmapFileChecksum: E_BMAP before the image is read', async (t) => {
    const path = await editedBmap('self.bmap', (xml) => xml.replace(/<BmapFileChecksum>\s*([0-9a-f])/, (m, c: string) => m.slice(0, -1) + (c === 'a' ? 'b' : 'a')));
    await refused(t, { bmap: path }, 'E_BMAP', /its own checksum does not match/);
  });

  t.test('the bmap of another image of the same size: the image pass refuses it (E_BMAP)', async (t) => {
    const path = join(dir, 'another.bmap');
    await copyFile(other.bmapPath, path);
    await refused(t, { bmap: path }, 'E_BMAP', /another\.bmap: \d+ of its \d+ ranges do not match image .*it is not the bmap of this image/);
  });

  t.test('a bmap the manifest lists under its name with another sha256: E_BMAP', async (t) => {
    await refused(t, { bmap: other.bmapPath }, 'E_BMAP', /has sha256 [0-9a-f]{64} but manifest .* lists plugsrv-test\.raw\.bmap with [0-9a-f]{64}: it is not the bmap built with this image/);
  });

  t.test('a bmap whose ImageSize is not the image\'s: E_BMAP', async (t) => {
    const small = await makeImage(await tempDir(t), { bytes: 32 * MiB, name: 'small.raw', gpt: false, data: [[0, MiB]] });
    await refused(t, { bmap: small.bmapPath }, 'E_BMAP', /describes an image of 33554432 bytes .* but the image is 67108864 bytes/);
  });

  t.test('an image whose sha256 is not the manifest\'s: E_IMAGE_MISMATCH', async (t) => {
    const manifest = join(dir, 'wrong-sha.json');
    const json = JSON.parse(await readFile(img.manifest, 'utf8')) as { outputs: { sha256: string }[] };
    json.outputs[0]!.sha256 = other.sha256;
    await writeFile(manifest, JSON.stringify(json));
    await refused(t, { manifest }, 'E_IMAGE_MISMATCH', new RegExp(`has sha256 ${img.sha256} but its manifest says ${other.sha256}: the image is damaged.*Nothing was written.*sha256sum -c`));
    await refused(t, { manifest, bmap: undefined }, 'E_IMAGE_MISMATCH', /but its manifest says/);
  });

  t.test('the manifest of another image (same name, other data): E_IMAGE_MISMATCH, not E_BMAP', async (t) => {
    await refused(t, { manifest: other.manifest, bmap: undefined }, 'E_IMAGE_MISMATCH', /but its manifest says/);
  });

  t.test('manifest: size differs, image not listed, no manifest', async (t) => {
    const manifest = join(dir, 'wrong-size.json');
    await writeFile(manifest, JSON.stringify({ outputs: [{ file: 'plugsrv-test.raw', sha256: img.sha256, bytes: img.bytes + 1 }] }));
    await refused(t, { manifest }, 'E_IMAGE_MISMATCH', /is 67108864 bytes .* but manifest .* says 67108865/);
    await writeFile(manifest, JSON.stringify({ outputs: [{ file: 'other.raw', sha256: img.sha256, bytes: img.bytes }] }));
    await refused(t, { manifest }, 'E_IMAGE_MISMATCH', /does not list plugsrv-test\.raw \(it lists other\.raw\)/);
    await writeFile(manifest, '{not json');
    await refused(t, { manifest }, 'E_IMAGE_MISMATCH', /is not JSON/);
    await refused(t, { manifest: join(dir, 'none.json') }, 'E_NOT_FOUND', /does not exist.*--manifest/);
  });

  t.test('a target too small: E_TARGET_TOO_SMALL', async (t) => {
    const small = await makeTarget(join(dir, 'small.img'), img.bytes - 4096);
    const h = await sha256File(small);
    await refused(t, { targets: [small] }, 'E_TARGET_TOO_SMALL', /holds 67104768 bytes .*less than the image's 67108864 bytes.*truncate -s 67108864/);
    t.equal(await sha256File(small), h);
  });

  t.test('a missing target: E_TARGET_INVALID saying how to create it', async (t) => {
    await refused(t, { targets: [join(dir, 'absent.img')] }, 'E_TARGET_INVALID', /absent\.img does not exist.*truncate -s 67108864/);
  });

  t.test('two targets, one too small: nothing written to either (all checks first)', async (t) => {
    const small = await makeTarget(join(dir, 'small2.img'), 10 * MiB);
    await refused(t, { targets: [targetA, small] }, 'E_TARGET_TOO_SMALL', /small2\.img holds/);
    await refused(t, { targets: [targetA, targetB, small, join(dir, 'gone.img')] }, 'E_TARGET_TOO_SMALL', /2 of 4 targets refused; nothing was written:\n {2}- target .*small2\.img holds .*\n {2}- target .*gone\.img does not exist/);
  });

  t.test('the same target twice, or the image as a target: E_TARGET_INVALID', async (t) => {
    await refused(t, { targets: [targetA, join(dir, '.', 'unit-a.img')] }, 'E_TARGET_INVALID', /is the same disk or file as/);
    const { confirm, calls } = yes();
    const imageHash = await sha256File(img.image);
    await t.rejects(flashTargets({ image: img.image, bmap: img.bmapPath, manifest: img.manifest, targets: [img.image], confirm }), { code: 'E_TARGET_INVALID', message: /is the image file itself/ });
    t.equal(calls.length, 0);
    t.equal(await sha256File(img.image), imageHash);
  });

  t.test('the operator says no: E_NOT_CONFIRMED, nothing written', async (t) => {
    let asked = 0;
    await t.rejects(
      flashTargets({
        image: img.image,
        bmap: img.bmapPath,
        manifest: img.manifest,
        targets: [targetA, targetB],
        confirm: async (plan) => {
          asked++;
          t.equal(plan.targets.length, 2);
          return false;
        },
      }),
      { code: 'E_NOT_CONFIRMED', message: /not confirmed: nothing was written.*--yes/ },
    );
    t.equal(asked, 1);
    t.equal(await sha256File(targetA), before.a);
    t.equal(await sha256File(targetB), before.b);
  });

  t.test('no target, no image, no bmap file', async (t) => {
    await refused(t, { targets: [] }, 'E_USAGE', /no target given/);
    await refused(t, { image: join(dir, 'none.raw') }, 'E_NOT_FOUND', /image .*none\.raw does not exist/);
    await refused(t, { bmap: join(dir, 'none.bmap') }, 'E_NOT_FOUND', /bmap .*none\.bmap does not exist/);
  });
}

function createHashHex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
