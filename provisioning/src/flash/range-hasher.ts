// sha256 of every bmap range while the image streams by in order.
import { createHash, type Hash } from 'node:crypto';

export interface HashedRange {
  readonly offset: number;
  readonly length: number;
  readonly sha256: string;
}

export class RangeHasher {
  private index = 0;
  private hash: Hash | undefined;
  /** Indexes of the ranges whose sha256 differed. */
  readonly mismatches: number[] = [];

  constructor(private readonly ranges: readonly HashedRange[]) {}

  /** Feeds the image bytes at `offset`; calls must come in image order, gaps allowed. */
  update(data: Uint8Array, offset: number): void {
    const end = offset + data.length;
    for (;;) {
      const r = this.ranges[this.index];
      if (!r || r.offset >= end) return;
      const rEnd = r.offset + r.length;
      const from = Math.max(offset, r.offset);
      const to = Math.min(end, rEnd);
      if (to > from) {
        this.hash ??= createHash('sha256');
        this.hash.update(data.subarray(from - offset, to - offset));
      }
      if (rEnd > end) return;
      if ((this.hash ?? createHash('sha256')).digest('hex') !== r.sha256) this.mismatches.push(this.index);
      this.hash = undefined;
      this.index++;
    }
  }
}
