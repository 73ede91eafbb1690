// The flash step for several units at once: flash/'s engine (every check before any write, targets in parallel,
// read-back verification), the verified image cached in the line DB, each unit's outcome recorded.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { eq } from 'drizzle-orm';
import { imageChecks } from '../db/index.js';
import { ErrorCode, LineError } from '../errors.js';
import { flashTargets, type FlashPlan, type FlashReport, type ImageCheckCache } from '../flash/index.js';
import { recordStep, type Unit } from '../units/index.js';
import type { LineContext } from './context.js';

export interface ImageInput {
  image: string;
  bmap?: string;
  /** Default: manifest.json next to the image. */
  manifest?: string;
}

function dbCache(ctx: LineContext): ImageCheckCache {
  return {
    async get(key) {
      return (await ctx.db.select().from(imageChecks).where(eq(imageChecks.key, key))).length > 0;
    },
    async set(key) {
      await ctx.db.insert(imageChecks).values({ key, checkedAt: ctx.now() }).onConflictDoNothing();
    },
  };
}

/** The image's version from its manifest (the label, the letter and the unit record show it). */
export async function imageVersion(input: ImageInput): Promise<string> {
  const manifest = input.manifest ?? join(dirname(input.image), 'manifest.json');
  try {
    const json = JSON.parse(await readFile(manifest, 'utf8')) as { version?: unknown };
    return typeof json.version === 'string' ? json.version : 'unknown';
  } catch {
    return 'unknown'; // flashTargets refuses a missing or bad manifest with the full message
  }
}

export async function flashStep(
  ctx: LineContext,
  jobs: readonly { unit: Unit; target: string }[],
  input: ImageInput,
  confirm: (plan: FlashPlan) => Promise<boolean>,
  signal?: AbortSignal,
): Promise<FlashReport> {
  if (jobs.length === 0) throw new LineError(ErrorCode.USAGE, 'nothing to flash.');
  const version = await imageVersion(input);
  const report = await flashTargets({
    image: input.image,
    ...(input.bmap ? { bmap: input.bmap } : {}),
    ...(input.manifest ? { manifest: input.manifest } : {}),
    targets: jobs.map((j) => j.target),
    confirm,
    progress: ctx.progress,
    cache: dbCache(ctx),
    ...(signal ? { signal } : {}),
  });
  for (const job of jobs) {
    const r = report.results.find((x) => x.target === job.target);
    if (!r) continue;
    if (r.ok) {
      await recordStep(
        ctx.db,
        job.unit.id,
        'flash',
        'done',
        { target: job.target, imageSha256: report.image.sha256, bmapSha256: report.bmap?.sha256 ?? null, bytesWritten: r.bytesWritten, writeSeconds: r.writeSeconds, verifySeconds: r.verifySeconds },
        ctx.operator,
        ctx.now(),
        { imageVersion: version, imageSha256: report.image.sha256, target: job.target },
      );
    } else {
      const e = r.error as (Error & { code?: string }) | undefined;
      await recordStep(ctx.db, job.unit.id, 'flash', 'failed', { target: job.target, code: e?.code ?? 'E_INTERNAL', message: e?.message ?? 'failed' }, ctx.operator, ctx.now(), { target: job.target });
    }
  }
  return report;
}
