// Pure: parses and checks a block map (bmap format 2.x, as `bmaptool create` writes it) - which blocks of the image hold
// data, each range with its sha256, and the file's own checksum, verified exactly as bmaptool verifies it.
import { createHash } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { LineError, ErrorCode } from '../errors.js';
import { formatBytes } from './units.js';

/** One range of mapped blocks, with its position in bytes (the last range is cut at the image size, as bmaptool reads it). */
export interface BmapRange {
  readonly firstBlock: number;
  readonly lastBlock: number;
  /** Byte offset of the range in the image (and on the target). */
  readonly offset: number;
  /** Bytes of the range: (lastBlock - firstBlock + 1) x BlockSize, less past the image's end. */
  readonly length: number;
  /** sha256 (hex) of those bytes, from the range's `chksum` attribute. */
  readonly sha256: string;
}

export interface Bmap {
  /** The `version` attribute, e.g. "2.0". */
  readonly version: string;
  readonly imageSize: number;
  readonly blockSize: number;
  readonly blocksCount: number;
  readonly mappedBlocksCount: number;
  /** Sum of the ranges' lengths: what a flash writes. */
  readonly mappedBytes: number;
  /** The file's own sha256, `BmapFileChecksum` (already verified). */
  readonly fileChecksum: string;
  readonly ranges: readonly BmapRange[];
}

export interface ParseBmapOptions {
  /** The bmap's name in messages (its path). */
  readonly name?: string;
  /** The image file's size: when given, ImageSize must equal it. */
  readonly imageBytes?: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const RECREATE = 'Use the .bmap file built with this image (next to it in the build output), or recreate it with `bmaptool create IMAGE > IMAGE.bmap`.';

function bmapError(name: string, what: string, todo = RECREATE): LineError {
  return new LineError(ErrorCode.BMAP, `bmap ${name}: ${what}. ${todo}`, { details: { bmap: name } });
}

/**
 * The checksum bmaptool computes for a bmap file: sha256 of the file's bytes with the first occurrence of the declared
 * checksum text replaced by as many ASCII "0" (BmapCopy._verify_bmap_checksum). Undefined when the declared text is not in the file.
 */
export function computeBmapFileChecksum(raw: Uint8Array, declared: string): string | undefined {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const needle = Buffer.from(declared, 'utf8');
  const at = bytes.indexOf(needle);
  if (needle.length === 0 || at < 0) return undefined;
  const copy = Buffer.from(bytes);
  copy.fill(0x30, at, at + needle.length);
  return createHash('sha256').update(copy).digest('hex');
}

/** "blocks 515-19476 (bytes 2109440-79777791)": a range as the operator can look it up (hexdump -s, dd skip=). */
export function describeRange(r: Pick<BmapRange, 'firstBlock' | 'lastBlock' | 'offset' | 'length'>): string {
  const blocks = r.firstBlock === r.lastBlock ? `block ${r.firstBlock}` : `blocks ${r.firstBlock}-${r.lastBlock}`;
  return `${blocks} (bytes ${r.offset}-${r.offset + r.length - 1})`;
}

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The text of a leaf element that must appear exactly once. */
function leafText(root: Node, tag: string, name: string): string {
  const v = root[tag];
  if (v === undefined) throw bmapError(name, `<${tag}> is missing`);
  if (Array.isArray(v)) throw bmapError(name, `<${tag}> appears ${v.length} times`);
  if (typeof v === 'string') return v.trim();
  if (isNode(v) && typeof v['#text'] === 'string') return v['#text'].trim();
  throw bmapError(name, `<${tag}> has no text`);
}

function count(root: Node, tag: string, name: string, min: number): number {
  const text = leafText(root, tag, name);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw bmapError(name, `<${tag}> is "${text}", not a whole number >= ${min}`);
  return n;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (tag) => tag === 'Range',
});

/** Parses the root element and its version; refuses format 1.x (sha1 or no checksums) and anything newer than 2.x. */
function parseRoot(text: string, name: string): { root: Node; version: string } {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw bmapError(name, 'it declares a DOCTYPE or entities, which a bmap never has');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw bmapError(name, `it is not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
  const doc: unknown = parser.parse(text);
  const root = isNode(doc) ? doc['bmap'] : undefined;
  if (!isNode(root)) throw bmapError(name, 'it has no <bmap> root element; it is not a bmap file');
  const version = typeof root['@_version'] === 'string' ? root['@_version'].trim() : '';
  const m = /^(\d+)\.(\d+)$/.exec(version);
  if (!m) throw bmapError(name, `its version attribute is "${version}", not "major.minor"`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  // bmaptool: format 1.4 was released by mistake and is identical to 2.0; 1.0-1.3 have sha1 or no checksums at all.
  if (major < 2 && !(major === 1 && minor === 4)) {
    throw bmapError(name, `it is bmap format ${version}, which has sha1 or no checksums; the line needs format 2.x with sha256 checksums`, 'Recreate it with a current bmaptool: `bmaptool create IMAGE > IMAGE.bmap`.');
  }
  if (major > 2) throw bmapError(name, `it is bmap format ${version}, newer than the 2.x this line reads`, 'Recreate it with `bmaptool create` of bmap-tools 3.x (format 2.0).');
  return { root, version };
}

function parseRanges(root: Node, name: string, blockSize: number, blocksCount: number, imageSize: number): BmapRange[] {
  const map = root['BlockMap'];
  if (map === undefined) throw bmapError(name, '<BlockMap> is missing');
  if (Array.isArray(map)) throw bmapError(name, '<BlockMap> appears more than once');
  const elements = isNode(map) && Array.isArray(map['Range']) ? (map['Range'] as unknown[]) : [];
  const ranges: BmapRange[] = [];
  let previous: BmapRange | undefined;
  for (const [i, el] of elements.entries()) {
    const text = (typeof el === 'string' ? el : isNode(el) && typeof el['#text'] === 'string' ? el['#text'] : '').trim();
    const where = `<Range> #${i + 1} ("${text}")`;
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(text);
    if (!m) throw bmapError(name, `${where} is not "first-last" or "block"`);
    const firstBlock = Number(m[1]);
    const lastBlock = m[2] === undefined ? firstBlock : Number(m[2]);
    if (!Number.isSafeInteger(firstBlock) || !Number.isSafeInteger(lastBlock)) throw bmapError(name, `${where} has a block number too large`);
    if (lastBlock < firstBlock) throw bmapError(name, `${where} ends before it starts`);
    if (lastBlock >= blocksCount) throw bmapError(name, `${where} goes past the last block ${blocksCount - 1} (BlocksCount ${blocksCount})`);
    if (previous && firstBlock <= previous.lastBlock) {
      throw bmapError(name, `${where} ${firstBlock >= previous.firstBlock ? 'overlaps' : 'comes before'} the range before it (${previous.firstBlock}-${previous.lastBlock}); ranges must be in order and not overlap`);
    }
    const sha256 = isNode(el) && typeof el['@_chksum'] === 'string' ? el['@_chksum'].trim() : undefined;
    if (sha256 === undefined) throw bmapError(name, `${where} has no chksum attribute; the line verifies every range`);
    if (!SHA256_HEX.test(sha256)) throw bmapError(name, `${where} has chksum "${sha256}", not a lower-case sha256`);
    const offset = firstBlock * blockSize;
    const length = Math.min((lastBlock + 1) * blockSize, imageSize) - offset;
    const range: BmapRange = { firstBlock, lastBlock, offset, length, sha256 };
    ranges.push(range);
    previous = range;
  }
  return ranges;
}

/**
 * Parses a bmap file's bytes and checks it: format 2.x with sha256, its BmapFileChecksum (as bmaptool computes it),
 * BlocksCount = ceil(ImageSize / BlockSize), ranges well-formed, in order, not overlapping, inside BlocksCount, each
 * with a sha256, MappedBlocksCount = the blocks of the ranges, and ImageSize = `imageBytes` when given. E_BMAP naming
 * what is wrong otherwise.
 */
export function parseBmap(raw: Uint8Array | string, options: ParseBmapOptions = {}): Bmap {
  const name = options.name ?? '(bmap)';
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const { root, version } = parseRoot(bytes.toString('utf8'), name);

  const checksumType = leafText(root, 'ChecksumType', name);
  if (checksumType !== 'sha256') throw bmapError(name, `its ChecksumType is "${checksumType}"; the line accepts sha256 only`);
  const fileChecksum = leafText(root, 'BmapFileChecksum', name);
  if (!SHA256_HEX.test(fileChecksum)) throw bmapError(name, `its BmapFileChecksum "${fileChecksum}" is not a lower-case sha256`);
  const computed = computeBmapFileChecksum(bytes, fileChecksum);
  if (computed !== fileChecksum) {
    throw bmapError(name, `its own checksum does not match (BmapFileChecksum ${fileChecksum}, computed ${computed ?? '-'}): the file was edited or damaged`, 'Copy it again from the build output, or recreate it with `bmaptool create IMAGE > IMAGE.bmap`.');
  }

  const imageSize = count(root, 'ImageSize', name, 1);
  const blockSize = count(root, 'BlockSize', name, 1);
  const blocksCount = count(root, 'BlocksCount', name, 1);
  const mappedBlocksCount = count(root, 'MappedBlocksCount', name, 0);
  const expectedBlocks = Math.ceil(imageSize / blockSize);
  if (blocksCount !== expectedBlocks) {
    throw bmapError(name, `BlocksCount ${blocksCount} does not match ImageSize ${imageSize} / BlockSize ${blockSize} (${expectedBlocks} blocks)`);
  }
  if (options.imageBytes !== undefined && options.imageBytes !== imageSize) {
    throw bmapError(name, `it describes an image of ${imageSize} bytes (${formatBytes(imageSize)}) but the image is ${options.imageBytes} bytes (${formatBytes(options.imageBytes)}): it is the bmap of another image`);
  }
  const ranges = parseRanges(root, name, blockSize, blocksCount, imageSize);
  const mapped = ranges.reduce((n, r) => n + (r.lastBlock - r.firstBlock + 1), 0);
  if (mapped !== mappedBlocksCount) throw bmapError(name, `MappedBlocksCount is ${mappedBlocksCount} but its ranges hold ${mapped} blocks`);
  return {
    version,
    imageSize,
    blockSize,
    blocksCount,
    mappedBlocksCount,
    mappedBytes: ranges.reduce((n, r) => n + r.length, 0),
    fileChecksum,
    ranges,
  };
}
