// The one I/O adapter of detection: reads /sys and /proc under an injectable root, so tests read fixture trees.
// It can also capture what it reads into a new tree (`plugsrv hw detect --capture DIR`), which is how fixtures of real
// machines are made: the capture holds exactly the files detection reads, serial numbers redacted.
import { mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { systemErrorCode } from '../../../lib/errors.js';

export interface SysReader {
  /** The directory standing for `/`. */
  readonly root: string;
  /** A file's text, or undefined when it is missing or the kernel refuses the read (EINVAL for a down link's speed). */
  text(path: string): Promise<string | undefined>;
  bytes(path: string): Promise<Buffer | undefined>;
  /** Entries of a directory; [] when it is missing. */
  list(path: string): Promise<string[]>;
  isDir(path: string): Promise<boolean>;
  /**
   * A symbolic link's target. In a captured tree a directory that was a link holds a `.symlink` file with the target
   * (a capture cannot be both a real directory to read through and a link).
   */
  link(path: string): Promise<string | undefined>;
  /** Paths that exist but could not be read, with the reason (e.g. root-only DMI serials). */
  readonly denied: string[];
}

/** Values never copied into a capture as they are. */
const REDACTED = new Set(['/sys/class/dmi/id/product_serial', '/sys/class/dmi/id/board_serial', '/sys/class/dmi/id/chassis_serial', '/sys/class/dmi/id/product_uuid']);

const QUIET = new Set(['ENOENT', 'ENOTDIR', 'EINVAL', 'ENODEV', 'ENXIO', 'EOPNOTSUPP', 'EIO']);

export function fsReader(root = '/', options: { capture?: string } = {}): SysReader {
  const denied: string[] = [];
  const at = (p: string): string => join(root, p);
  const capture = options.capture;
  const save = async (p: string, data: Buffer | string): Promise<void> => {
    if (!capture) return;
    const dest = join(capture, p);
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, REDACTED.has(p) ? 'REDACTED\n' : data);
  };
  const fail = (p: string, err: unknown): undefined => {
    const code = systemErrorCode(err);
    if (code === undefined || !QUIET.has(code)) denied.push(`${p}: ${code ?? (err as Error).message}`);
    return undefined;
  };
  return {
    root,
    denied,
    async text(p) {
      try {
        const t = await readFile(at(p), 'utf8');
        await save(p, t);
        return t;
      } catch (err) {
        return fail(p, err);
      }
    },
    async bytes(p) {
      try {
        const b = await readFile(at(p));
        await save(p, b);
        return b;
      } catch (err) {
        return fail(p, err);
      }
    },
    async list(p) {
      try {
        const names = (await readdir(at(p))).filter((n) => n !== '.symlink').sort();
        if (capture) await mkdir(join(capture, p), { recursive: true });
        return names;
      } catch (err) {
        fail(p, err);
        return [];
      }
    },
    async isDir(p) {
      try {
        const dir = (await stat(at(p))).isDirectory();
        if (dir && capture) await mkdir(join(capture, p), { recursive: true });
        return dir;
      } catch {
        return false;
      }
    },
    async link(p) {
      let target: string | undefined;
      try {
        target = await readlink(at(p));
      } catch (err) {
        if (systemErrorCode(err) !== 'EINVAL') return undefined;
        try {
          target = (await readFile(join(at(p), '.symlink'), 'utf8')).trim();
        } catch {
          return undefined;
        }
      }
      if (capture) {
        await mkdir(join(capture, p), { recursive: true });
        await writeFile(join(capture, p, '.symlink'), `${target}\n`);
      }
      return target;
    },
  };
}
