// Package rows in the state DB: add, list and look up the packages that are ready to serve.
import { and, eq, inArray } from 'drizzle-orm';
import type { AgentDb } from '../db/index.js';
import { tables } from '../db/index.js';
import type { Package, PackageMeta } from './package.js';

type Row = typeof tables.packages.$inferSelect & { size: number };

function toPackage(row: Row): Package {
  return {
    id: row.sha256,
    name: row.name,
    size: row.size,
    kind: row.kind,
    headUnit: row.headUnit,
    models: JSON.parse(row.models) as string[],
    version: row.version,
    ...(row.releaseNotes ? { releaseNotes: row.releaseNotes } : {}),
    source: row.source,
    addedAt: row.addedAt,
  };
}

export class PackageRepository {
  constructor(private readonly db: AgentDb) {}

  /** Records (or updates the metadata of) a package whose blob is already in the store. */
  async upsert(sha256: string, meta: PackageMeta, source: 'import' | 'sync', addedAt: number): Promise<void> {
    await this.upsertQuery(sha256, meta, source, addedAt);
  }

  /** upsert's statement, not yet run: for a `db.batch` that commits it with other rows in one transaction. */
  upsertQuery(sha256: string, meta: PackageMeta, source: 'import' | 'sync', addedAt: number) {
    const values = {
      name: meta.name,
      kind: meta.kind,
      headUnit: meta.headUnit,
      models: JSON.stringify(meta.models),
      version: meta.version,
      releaseNotes: meta.releaseNotes ?? null,
      source,
    };
    return this.db
      .insert(tables.packages)
      .values({ sha256, ...values, addedAt })
      .onConflictDoUpdate({ target: tables.packages.sha256, set: values });
  }

  private selectReady() {
    return this.db
      .select({ pkg: tables.packages, size: tables.blobs.size })
      .from(tables.packages)
      .innerJoin(tables.blobs, eq(tables.blobs.sha256, tables.packages.sha256));
  }

  /** Ready packages: only those whose blob is recorded (verified and durable) in the store. */
  async listReady(): Promise<Package[]> {
    const rows = await this.selectReady().orderBy(tables.packages.headUnit, tables.packages.name);
    return rows.map((r) => toPackage({ ...r.pkg, size: r.size }));
  }

  /** Synced packages with their size and when they left the site's selection (for garbage collection). */
  async listSynced(): Promise<Array<{ sha256: string; size: number; leftCatalogAt?: number }>> {
    const rows = await this.selectReady().where(eq(tables.packages.source, 'sync'));
    return rows.map((r) => ({ sha256: r.pkg.sha256, size: r.size, ...(r.pkg.leftCatalogAt !== null ? { leftCatalogAt: r.pkg.leftCatalogAt } : {}) }));
  }

  async setLeftCatalogAt(sha256s: string[], at: number | null): Promise<void> {
    if (sha256s.length === 0) return;
    await this.db
      .update(tables.packages)
      .set({ leftCatalogAt: at })
      .where(and(eq(tables.packages.source, 'sync'), inArray(tables.packages.sha256, sha256s)));
  }

  async getReady(sha256: string): Promise<Package | undefined> {
    const rows = await this.selectReady().where(eq(tables.packages.sha256, sha256));
    const r = rows[0];
    return r ? toPackage({ ...r.pkg, size: r.size }) : undefined;
  }
}
