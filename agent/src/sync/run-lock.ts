// An inter-process lock for sync runs (the serve role's scheduler and `plugsrv sync --now` share one data dir).
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../../../lib/process-alive.js';
import { AgentError, ErrorCode } from '../errors.js';

/** Takes `<dataDir>/sync.lock` (O_EXCL, holding our pid); a lock left by a dead process is taken over. */
export async function acquireSyncLock(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, 'sync.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o640);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
        throw new AgentError(ErrorCode.SYNC_BUSY, `a sync is already running (process ${holder}); wait for it to end, or stop it.`);
      }
      if (holder === process.pid) throw new AgentError(ErrorCode.SYNC_BUSY, 'a sync is already running in this process; wait for it to end.');
      await rm(path, { force: true });
    }
  }
  throw new AgentError(ErrorCode.SYNC_BUSY, 'could not take the sync lock; retry.');
}
