// In-flight state of one partial download: segment offsets, positional writes, streaming hash, progress and checkpoints.
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { diskError, RestartFromZero } from './faults.js';
import { validatorChanged, type Validator } from './policy.js';
import { removeHint, sidecarPath, writeHint, writeSidecar, type Sidecar } from './sidecar.js';

/** A segment as it runs: bytes [start, written) are in the file, [start, durable) also fsynced and recorded. */
export interface LiveSegment {
  start: number;
  end: number;
  durable: number;
  written: number;
}

export interface TransferHooks {
  checkpointBytes: number;
  /** Bytes between write hints (cheap, not fsynced: they survive a killed process); 0 = no hints. */
  hintBytes?: number;
  /** Shortest time between two write hints. */
  hintMinMs?: number;
  rate?: { take(bytes: number, signal?: AbortSignal): Promise<void> };
  onProgress?(doneBytes: number, totalBytes: number): void;
}

export class Transfer {
  segments: LiveSegment[];
  validator: Validator | undefined;
  /** Set while the file is written in one sequential pass from byte 0, so no re-read is needed. */
  private hash: Hash | undefined;
  private done: number;
  private sinceCheckpoint = 0;
  private chain: Promise<void> = Promise.resolve();
  private sinceHint = 0;
  private lastHintAt = 0;
  private hinting: Promise<void> | undefined;
  /** The checkpoint started by write(), while it runs. */
  private background: Promise<void> | undefined;
  /** A background checkpoint or hint failed: the next write throws it. */
  private failure: unknown;
  /** True once the transfer restarted from byte 0 (its segments no longer match the ones it opened with). */
  restarted = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly sidecar: Sidecar,
    private readonly partialPath: string,
    private readonly hooks: TransferHooks,
    hinted?: number[],
  ) {
    this.segments = sidecar.segments.map((s, i) => ({ ...s, written: Math.max(s.durable, hinted?.[i] ?? 0) }));
    this.validator = sidecar.validator;
    this.done = this.segments.reduce((n, s) => n + s.written - s.start, 0);
    const only = this.segments.length === 1 ? this.segments[0] : undefined;
    this.hash = only && only.written === 0 ? createHash('sha256') : undefined;
  }

  get size(): number {
    return this.sidecar.size;
  }

  get doneBytes(): number {
    return this.done;
  }

  /** The sha256 of the file when it was hashed while written, else undefined (the caller re-reads it). */
  streamedDigest(): string | undefined {
    return this.hash?.digest('hex');
  }

  /** Records the response's validator; a different one than recorded means the origin's file changed. */
  onValidator(seen: Validator | undefined): void {
    if (validatorChanged(this.validator, seen)) {
      throw new RestartFromZero(`the file changed on the origin (validator ${JSON.stringify(this.validator)} became ${JSON.stringify(seen)})`);
    }
    if (!this.validator && seen) this.validator = seen;
  }

  /** Writes the next bytes of `seg` at its offset, after the rate limiter allows them; checkpoints every checkpointBytes. */
  async write(seg: LiveSegment, chunk: Buffer, signal: AbortSignal): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    await this.hooks.rate?.take(chunk.length, signal);
    let off = 0;
    try {
      while (off < chunk.length) {
        const { bytesWritten } = await this.handle.write(chunk, off, chunk.length - off, seg.written + off);
        off += bytesWritten;
      }
    } catch (err) {
      throw diskError(err, this.partialPath);
    }
    seg.written += chunk.length;
    this.hash?.update(chunk);
    this.done += chunk.length;
    this.sinceCheckpoint += chunk.length;
    this.hooks.onProgress?.(this.done, this.size);
    this.sinceHint += chunk.length;
    // Checkpoints and hints run beside the writes, not in their way: a segment that waited for an fsync
    // would leave the origin's bytes piling up in the socket buffers (lost on a crash) and slow the link.
    if (this.sinceCheckpoint >= this.hooks.checkpointBytes && !this.background) {
      this.sinceCheckpoint = 0;
      this.background = this.checkpoint()
        .catch((err: unknown) => void (this.failure ??= err))
        .finally(() => (this.background = undefined));
    } else if (this.hooks.hintBytes && this.sinceHint >= this.hooks.hintBytes && !this.hinting && Date.now() - this.lastHintAt >= (this.hooks.hintMinMs ?? 0)) {
      this.hint();
    }
  }

  /** Records how far each segment is written (offsets of completed writes only), without fsync. */
  private hint(): void {
    this.sinceHint = 0;
    this.lastHintAt = Date.now();
    const written = this.segments.map((s) => s.written);
    this.hinting = writeHint(sidecarPath(this.partialPath), this.sidecar.sha256, written)
      .catch((err: unknown) => void (this.failure ??= diskError(err, this.partialPath)))
      .finally(() => (this.hinting = undefined));
  }

  /**
   * Makes what is written so far durable: note each segment's written offset, fsync the file, then
   * record those offsets in the sidecar (atomic replace). Calls are serialised.
   */
  checkpoint(): Promise<void> {
    const run = async (): Promise<void> => {
      await this.hinting; // never rejects; a hint landing after the final checkpoint would outlive the sidecar
      const snapshot = this.segments.map((s) => s.written);
      try {
        await this.handle.sync();
        this.segments.forEach((s, i) => (s.durable = Math.max(s.durable, snapshot[i] ?? s.durable)));
        await writeSidecar(sidecarPath(this.partialPath), this.record());
      } catch (err) {
        throw diskError(err, this.partialPath);
      }
    };
    this.chain = this.chain.then(run, run);
    return this.chain;
  }

  /** Forgets every byte: one segment over the whole file from 0, no validator, a fresh streaming hash. */
  async restartFromZero(): Promise<void> {
    await this.chain.catch(() => {});
    await this.hinting;
    await removeHint(sidecarPath(this.partialPath));
    this.restarted = true;
    this.segments = [{ start: 0, end: this.size, durable: 0, written: 0 }];
    this.validator = undefined;
    this.hash = createHash('sha256');
    this.done = 0;
    this.sinceCheckpoint = 0;
    this.failure = undefined;
    await this.checkpoint();
  }

  private record(): Sidecar {
    const segments = this.segments.map(({ start, end, durable }) => ({ start, end, durable }));
    return { sha256: this.sidecar.sha256, size: this.sidecar.size, url: this.sidecar.url, segments, ...(this.validator ? { validator: this.validator } : {}) };
  }
}
