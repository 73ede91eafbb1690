// Pure: finds a partition by name in a GPT (the primary header at LBA 1, its entries), with both CRC32s checked, so
// personalisation writes inside the partition the image defines and nowhere else.
import { crc32 } from 'node:zlib';

export interface GptPartition {
  index: number;
  name: string;
  typeGuid: string;
  uniqueGuid: string;
  firstLba: bigint;
  lastLba: bigint;
  offsetBytes: number;
  sizeBytes: number;
}

export interface GptHeader {
  sectorSize: number;
  entriesLba: bigint;
  entryCount: number;
  entrySize: number;
}

function guid(buf: Buffer, at: number): string {
  const h = buf.subarray(at, at + 16);
  const le = (a: number, n: number): string => Buffer.from(h.subarray(a, a + n)).reverse().toString('hex');
  return `${le(0, 4)}-${le(4, 2)}-${le(6, 2)}-${h.subarray(8, 10).toString('hex')}-${h.subarray(10, 16).toString('hex')}`;
}

/** Parses the header found in `sector` (the bytes at LBA 1); returns null with why when it is not a valid GPT header. */
export function parseGptHeader(sector: Buffer, sectorSize: number): { header: GptHeader } | { why: string } {
  if (sector.length < 92 || sector.subarray(0, 8).toString('latin1') !== 'EFI PART') return { why: 'no "EFI PART" signature' };
  const headerSize = sector.readUInt32LE(12);
  if (headerSize < 92 || headerSize > sectorSize) return { why: `header size ${headerSize} is invalid` };
  const copy = Buffer.from(sector.subarray(0, headerSize));
  const stored = copy.readUInt32LE(16);
  copy.writeUInt32LE(0, 16);
  if (crc32(copy) !== stored) return { why: 'the header CRC32 does not match (a damaged partition table)' };
  const entryCount = sector.readUInt32LE(80);
  const entrySize = sector.readUInt32LE(84);
  if (entrySize < 128 || entrySize > 4096 || entryCount > 1024) return { why: `entry count ${entryCount} or size ${entrySize} is invalid` };
  return { header: { sectorSize, entriesLba: sector.readBigUInt64LE(72), entryCount, entrySize } };
}

/** Parses the entries; `entriesCrc` is the header's CRC32 of the entry array (checked). */
export function parseGptEntries(entries: Buffer, header: GptHeader, entriesCrc: number): GptPartition[] | { why: string } {
  const array = entries.subarray(0, header.entryCount * header.entrySize);
  if (array.length < header.entryCount * header.entrySize) return { why: 'the partition entries are truncated' };
  if (crc32(array) !== entriesCrc) return { why: 'the partition entries CRC32 does not match (a damaged partition table)' };
  const out: GptPartition[] = [];
  for (let i = 0; i < header.entryCount; i++) {
    const e = array.subarray(i * header.entrySize, (i + 1) * header.entrySize);
    if (e.subarray(0, 16).every((b) => b === 0)) continue;
    const firstLba = e.readBigUInt64LE(32);
    const lastLba = e.readBigUInt64LE(40);
    const name = e.subarray(56, 128).toString('utf16le').replace(/\0[\s\S]*$/, '');
    const size = BigInt(header.sectorSize);
    out.push({
      index: i + 1,
      name,
      typeGuid: guid(e, 0),
      uniqueGuid: guid(e, 16),
      firstLba,
      lastLba,
      offsetBytes: Number(firstLba * size),
      sizeBytes: Number((lastLba - firstLba + 1n) * size),
    });
  }
  return out;
}

/** Reads the GPT of a disk (or disk image) through `read(offset, length)`, trying 512- then 4096-byte sectors. */
export async function readGpt(read: (offset: number, length: number) => Promise<Buffer>): Promise<{ partitions: GptPartition[]; sectorSize: number } | { why: string }> {
  let why = '';
  for (const sectorSize of [512, 4096]) {
    const sector = await read(sectorSize, sectorSize);
    const parsed = parseGptHeader(sector, sectorSize);
    if ('why' in parsed) {
      why = why || parsed.why;
      continue;
    }
    const { header } = parsed;
    const entries = await read(Number(header.entriesLba) * sectorSize, header.entryCount * header.entrySize);
    const list = parseGptEntries(entries, header, sector.readUInt32LE(88));
    if ('why' in list) return list;
    return { partitions: list, sectorSize };
  }
  return { why };
}
