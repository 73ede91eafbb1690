// Writes the personalisation into the flashed target's `plugsrv-perso` partition without booting the unit: the files
// go into a private temporary folder, `mkfs.ext4 -d` makes a file system of exactly the partition's size from it,
// that is written at the partition's offset, synced, and read back. Nothing is written outside the partition.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ErrorCode, LineError } from '../errors.js';
import { targetFacts } from '../flash/index.js';
import type { ProgressSink } from '../progress.js';
import { PERSO_FS_LABEL, PERSO_PARTITION_NAME, type PersoFile } from './content.js';
import { readGpt, type GptPartition } from './gpt.js';

export interface PersoWriteResult {
  partition: Pick<GptPartition, 'index' | 'name' | 'offsetBytes' | 'sizeBytes' | 'uniqueGuid'>;
  files: string[];
  fsSha256: string;
}

function runTool(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 120_000, env: { ...process.env, LC_ALL: 'C', PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } }, (err, _o, stderr) => {
      if (!err) return resolve();
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        new LineError(
          ErrorCode.TOOL,
          missing ? `${cmd} is not installed: install e2fsprogs (apt-get install e2fsprogs) on the line station.` : `${cmd} failed: ${stderr.trim().slice(0, 500) || err.message}`,
          { cause: err },
        ),
      );
    });
  });
}

/** The target's plugsrv-perso partition, checked to lie inside the target. */
export async function findPersoPartition(target: string): Promise<GptPartition> {
  const fh = await open(target, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new LineError(ErrorCode.TARGET_INVALID, `cannot open ${target} to read its partition table (${err.code ?? err.message}); check the path and that you run as root for a disk.`, { cause: err });
  });
  try {
    // The flash step's view of the target (file size, or the block device's size from sysfs).
    const size = (await targetFacts(target)).sizeBytes ?? (await fh.stat()).size;
    const gpt = await readGpt(async (offset, length) => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    });
    if ('why' in gpt) throw new LineError(ErrorCode.PERSO_PARTITION, `${target} has no usable GPT (${gpt.why}): flash the plugsrv image onto it first ("plugsrv-line flash").`);
    const part = gpt.partitions.find((p) => p.name === PERSO_PARTITION_NAME);
    if (!part) {
      throw new LineError(
        ErrorCode.PERSO_PARTITION,
        `${target} has no "${PERSO_PARTITION_NAME}" partition (it has ${gpt.partitions.map((p) => p.name || `#${p.index}`).join(', ') || 'none'}): it was not flashed with a plugsrv image of this line; flash it first.`,
      );
    }
    if (part.sizeBytes < 2 * 1024 * 1024 || part.offsetBytes + part.sizeBytes > size) {
      throw new LineError(ErrorCode.PERSO_PARTITION, `${target}'s ${PERSO_PARTITION_NAME} partition (${part.sizeBytes} bytes at ${part.offsetBytes}) is too small or beyond the end of the target (${size} bytes); flash the image again.`);
    }
    return part;
  } finally {
    await fh.close();
  }
}

/** Writes `files` as an ext4 labelled plugsrv-perso into the target's partition, then reads it back. */
export async function writePerso(target: string, files: readonly PersoFile[], opts: { progress?: ProgressSink; tmpRoot?: string } = {}): Promise<PersoWriteResult> {
  const part = await findPersoPartition(target);
  const work = await mkdtemp(join(opts.tmpRoot ?? tmpdir(), 'plugsrv-perso-'));
  try {
    await chmod(work, 0o700);
    const tree = join(work, 'tree');
    await mkdir(tree, { mode: 0o755 });
    for (const f of files) {
      const path = join(tree, f.path);
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      await writeFile(path, f.content, { mode: f.mode });
      await chmod(path, f.mode);
    }
    const fsImage = join(work, 'perso.ext4');
    await writeFile(fsImage, '');
    await truncate(fsImage, part.sizeBytes);
    await runTool('mkfs.ext4', ['-q', '-F', '-L', PERSO_FS_LABEL, '-E', 'root_owner=0:0', '-d', tree, fsImage]);
    const data = await readFile(fsImage);
    if (data.length !== part.sizeBytes || (await stat(fsImage)).size !== part.sizeBytes) throw new LineError(ErrorCode.INTERNAL, 'mkfs.ext4 changed the size of the file system image');
    const sha = createHash('sha256').update(data).digest('hex');
    const fh = await open(target, 'r+');
    try {
      const chunk = 4 * 1024 * 1024;
      for (let off = 0; off < data.length; off += chunk) {
        const piece = data.subarray(off, Math.min(off + chunk, data.length));
        let written = 0;
        while (written < piece.length) {
          const { bytesWritten } = await fh.write(piece, written, piece.length - written, part.offsetBytes + off + written);
          written += bytesWritten;
        }
        opts.progress?.({ phase: 'personalise', target, doneBytes: off + piece.length, totalBytes: data.length });
      }
      await fh.datasync();
      const back = Buffer.alloc(data.length);
      await fh.read(back, 0, back.length, part.offsetBytes);
      const backSha = createHash('sha256').update(back).digest('hex');
      if (backSha !== sha) {
        throw new LineError(ErrorCode.VERIFY_FAILED, `the personalisation read back from ${target} (partition ${part.index} at ${part.offsetBytes}) differs from what was written: the target is bad; do not ship it.`);
      }
    } finally {
      await fh.close();
    }
    return {
      partition: { index: part.index, name: part.name, offsetBytes: part.offsetBytes, sizeBytes: part.sizeBytes, uniqueGuid: part.uniqueGuid },
      files: files.map((f) => f.path).sort(),
      fsSha256: sha,
    };
  } finally {
    // The tree held a bootstrap token and a password hash.
    await rm(work, { recursive: true, force: true });
  }
}
