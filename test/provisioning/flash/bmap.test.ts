// Pure bmap parsing and checks: format 2.x as bmaptool writes it, its own checksum computed as bmaptool does, ranges, counts, sizes.
import t from 'tap';
import { createHash } from 'node:crypto';
import { computeBmapFileChecksum, describeRange, parseBmap } from '../../../provisioning/src/flash/index.js';

const ZEROS = '0'.repeat(64);
const SUM = (s: string): string => createHash('sha256').update(s).digest('hex');

interface XmlSpec {
  version?: string;
  imageSize?: number | string;
  blockSize?: number;
  blocksCount?: number;
  mapped?: number;
  checksumType?: string;
  ranges?: [string, string | undefined][];
  extra?: string;
  fileChecksum?: string;
}

/** A bmap in bmaptool's layout; the file checksum computed independently: sha256 of the text with 64 zeros in its place. */
function bmapXml(s: XmlSpec = {}): string {
  const ranges = s.ranges ?? [
    ['0-1', SUM('a')],
    ['5', SUM('b')],
    ['8-9', SUM('c')],
  ];
  const body = (sum: string): string => `<?xml version="1.0" ?>
<!-- comment like bmaptool's -->
<bmap version="${s.version ?? '2.0'}">
    <ImageSize> ${s.imageSize ?? 40000} </ImageSize>
    <BlockSize> ${s.blockSize ?? 4096} </BlockSize>
    <BlocksCount> ${s.blocksCount ?? 10} </BlocksCount>
    <MappedBlocksCount> ${s.mapped ?? 5}   </MappedBlocksCount>
    <ChecksumType> ${s.checksumType ?? 'sha256'} </ChecksumType>
    <BmapFileChecksum> ${sum} </BmapFileChecksum>${s.extra ?? ''}
    <BlockMap>
${ranges.map(([text, chk]) => `        <Range${chk === undefined ? '' : ` chksum="${chk}"`}> ${text} </Range>`).join('\n')}
    </BlockMap>
</bmap>
`;
  return body(s.fileChecksum ?? SUM(body(ZEROS)));
}

t.test('a bmap in bmaptool layout parses: ranges in bytes, the last cut at ImageSize', async (t) => {
  const b = parseBmap(bmapXml(), { name: 'x.bmap', imageBytes: 40000 });
  t.equal(b.version, '2.0');
  t.equal(b.blockSize, 4096);
  t.equal(b.blocksCount, 10);
  t.equal(b.mappedBlocksCount, 5);
  t.same(
    b.ranges.map((r) => [r.firstBlock, r.lastBlock, r.offset, r.length]),
    [
      [0, 1, 0, 8192],
      [5, 5, 20480, 4096],
      [8, 9, 32768, 40000 - 32768],
    ],
  );
  t.equal(b.mappedBytes, 8192 + 4096 + 40000 - 32768);
  t.equal(b.ranges[1]?.sha256, SUM('b'));
  t.equal(describeRange(b.ranges[0]!), 'blocks 0-1 (bytes 0-8191)');
  t.equal(describeRange(b.ranges[1]!), 'block 5 (bytes 20480-24575)');
});

t.test('the file checksum is computed as bmaptool does (first occurrence replaced by zeros)', async (t) => {
  const xml = bmapXml();
  const declared = /<BmapFileChecksum> (\w+) /.exec(xml)![1]!;
  t.equal(computeBmapFileChecksum(Buffer.from(xml), declared), declared);
  t.equal(computeBmapFileChecksum(Buffer.from(xml), 'f'.repeat(64)), undefined, 'not in the file');
  t.equal(parseBmap(Buffer.from(xml)).fileChecksum, declared, 'Buffer input');
  t.ok(parseBmap(bmapXml({ version: '1.4' })), 'format 1.4 is 2.0 under another number (bmaptool)');
});

t.test('a tampered bmap is refused: its own checksum', async (t) => {
  const xml = bmapXml();
  t.throws(() => parseBmap(xml.replace('<MappedBlocksCount> 5 ', '<MappedBlocksCount> 6 '), { name: 'x.bmap' }), { code: 'E_BMAP', message: /bmap x\.bmap: its own checksum does not match .*edited or damaged/ });
  t.throws(() => parseBmap(xml.replace(SUM('b'), SUM('B'))), { code: 'E_BMAP', message: /own checksum/ }, 'a range checksum changed');
  t.throws(() => parseBmap(xml.replace('<!-- comment', '<!-- Comment')), { code: 'E_BMAP', message: /own checksum/ }, 'even a comment is covered');
  t.throws(() => parseBmap(bmapXml({ fileChecksum: 'ABC' })), { code: 'E_BMAP', message: /BmapFileChecksum "ABC" is not a lower-case sha256/ });
});

t.test('bmap format 1.x (sha1 or no checksum) and newer majors are refused with a message', async (t) => {
  t.throws(() => parseBmap(bmapXml({ version: '1.3' })), { code: 'E_BMAP', message: /format 1\.3, which has sha1 or no checksums.*bmaptool create/ });
  t.throws(() => parseBmap(bmapXml({ version: '1.2' })), { code: 'E_BMAP', message: /format 1\.2/ });
  t.throws(() => parseBmap(bmapXml({ version: '3.0' })), { code: 'E_BMAP', message: /format 3\.0, newer/ });
  t.throws(() => parseBmap(bmapXml({ version: 'two' })), { code: 'E_BMAP', message: /version attribute is "two"/ });
  t.throws(() => parseBmap(bmapXml({ checksumType: 'sha1' })), { code: 'E_BMAP', message: /ChecksumType is "sha1"; the line accepts sha256 only/ });
});

t.test('ranges: order, overlap, bounds, form, checksum attribute', async (t) => {
  const r = (ranges: [string, string | undefined][], mapped: number): string => bmapXml({ ranges, mapped });
  t.throws(() => parseBmap(r([['5', SUM('b')], ['0-1', SUM('a')]], 3)), { code: 'E_BMAP', message: /<Range> #2 \("0-1"\) comes before the range before it \(5-5\)/ });
  t.throws(() => parseBmap(r([['0-3', SUM('a')], ['3-4', SUM('b')]], 6)), { code: 'E_BMAP', message: /#2 \("3-4"\) overlaps the range before it \(0-3\)/ });
  t.throws(() => parseBmap(r([['8-10', SUM('a')]], 3)), { code: 'E_BMAP', message: /goes past the last block 9 \(BlocksCount 10\)/ });
  t.throws(() => parseBmap(r([['4-2', SUM('a')]], 3)), { code: 'E_BMAP', message: /ends before it starts/ });
  t.throws(() => parseBmap(r([['a-b', SUM('a')]], 2)), { code: 'E_BMAP', message: /not "first-last" or "block"/ });
  t.throws(() => parseBmap(r([['1', undefined]], 1)), { code: 'E_BMAP', message: /has no chksum attribute/ });
  t.throws(() => parseBmap(r([['1', 'abc']], 1)), { code: 'E_BMAP', message: /chksum "abc", not a lower-case sha256/ });
  t.ok(parseBmap(r([['0-1', SUM('a')], ['2-3', SUM('b')]], 4)), 'adjacent ranges are fine');
  t.equal(parseBmap(r([], 0)).mappedBytes, 0, 'an empty map');
});

t.test('counts and sizes must agree', async (t) => {
  t.throws(() => parseBmap(bmapXml({ mapped: 6 })), { code: 'E_BMAP', message: /MappedBlocksCount is 6 but its ranges hold 5 blocks/ });
  t.throws(() => parseBmap(bmapXml({ blocksCount: 11 })), { code: 'E_BMAP', message: /BlocksCount 11 does not match ImageSize 40000 \/ BlockSize 4096 \(10 blocks\)/ });
  t.throws(() => parseBmap(bmapXml(), { name: 'x.bmap', imageBytes: 40960 }), { code: 'E_BMAP', message: /describes an image of 40000 bytes .* but the image is 40960 bytes .*the bmap of another image/ });
  t.throws(() => parseBmap(bmapXml({ imageSize: '4e4' })), { code: 'E_BMAP', message: /<ImageSize> is "4e4", not a whole number/ });
  t.throws(() => parseBmap(bmapXml({ imageSize: '99999999999999999999' })), { code: 'E_BMAP', message: /ImageSize/ });
  t.throws(() => parseBmap(bmapXml({ extra: '\n    <ImageSize> 1 </ImageSize>' })), { code: 'E_BMAP', message: /<ImageSize> appears 2 times/ });
});

t.test('not a bmap at all', async (t) => {
  t.throws(() => parseBmap('<bmap version="2.0"><ImageSize>1</Image'), { code: 'E_BMAP', message: /not well-formed XML \(line 1/ });
  t.throws(() => parseBmap('<other/>'), { code: 'E_BMAP', message: /no <bmap> root element/ });
  t.throws(() => parseBmap('{"json": true}'), { code: 'E_BMAP' });
  t.throws(() => parseBmap('<!DOCTYPE bmap [<!ENTITY x "y">]><bmap version="2.0"/>'), { code: 'E_BMAP', message: /DOCTYPE or entities/ });
  const noMap = bmapXml().replace(/<BlockMap>[\s\S]*<\/BlockMap>/, '');
  t.throws(() => parseBmap(noMap), { code: 'E_BMAP' }, 'removing BlockMap breaks the checksum first');
  t.throws(() => parseBmap(bmapXml().replace('<ChecksumType> sha256 </ChecksumType>', '')), { code: 'E_BMAP' });
});

t.test('every message says what to do', async (t) => {
  try {
    parseBmap(bmapXml({ mapped: 9 }), { name: 'img.bmap' });
    t.fail('should throw');
  } catch (err) {
    t.match((err as Error).message, /bmaptool create IMAGE > IMAGE\.bmap/);
  }
});
