// Durability helpers shared by everything that writes files that must survive a power cut.
import { open } from 'node:fs/promises';

/** fsyncs a directory, so a rename or a new file in it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
