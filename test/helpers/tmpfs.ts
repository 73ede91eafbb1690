// Test helper: a small fixed-size tmpfs (a real full-disk filesystem), or the reason this machine cannot give one.
import { execFileSync } from 'node:child_process';
import { tempDir } from './agent-process.js';

export async function smallTmpfs(t: { teardown(fn: () => unknown): void }, size: string): Promise<string | { skip: string }> {
  if (process.getuid?.() !== 0) return { skip: 'needs root to mount a small tmpfs (CI runs as root)' };
  const mnt = await tempDir(t, 'plugsrv-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (err) {
    return { skip: `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})` };
  }
  t.teardown(() => execFileSync('umount', ['-l', mnt]));
  return mnt;
}
