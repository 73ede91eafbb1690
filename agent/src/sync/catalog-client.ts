// Refreshes the signed catalog with tuf-js (pinned root; rollback, freeze, mix-and-match and endless-data checks) and mirrors it for LAN clients.
import { copyFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BaseFetcher, Updater } from 'tuf-js';
// Not re-exported by tuf-js's index, but the Updater recognises a missing next root only by this class.
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { z } from 'zod';
import type { Logger } from '../../../lib/log/index.js';
import { AgentError, ErrorCode } from '../errors.js';
import type { CatalogTarget } from './policy/index.js';

export interface CatalogClientOptions {
  dataDir: string;
  /** Base URL of the origin's TUF repository (holding metadata/ and targets/). */
  originUrl: string;
  /** The root.json this box trusts first (pinned at build or provisioning time). */
  trustedRootFile: string;
  fetchTimeoutMs: number;
  log: Logger;
}

export interface VerifiedCatalog {
  /** Version of the targets metadata. */
  version: number;
  targets: CatalogTarget[];
  /** Earliest expiry among the trusted top-level metadata, ms. */
  expiresAt: number;
}

const customSchema = z
  .object({
    kind: z.enum(['soft', 'map']),
    headUnit: z.string().min(1),
    models: z.array(z.string().min(1)).min(1),
    version: z.string().min(1),
    region: z.string().optional(),
    campaign: z.enum(['recall', 'technical-campaign', 'compliance', 'part-replacement', 'customer-complaint']).optional(),
    priority: z.number().int().optional(),
    supersedes: z.string().optional(),
    releaseNotes: z.string().optional(),
  })
  .passthrough();

const METADATA_NAME = /^(?:\d+\.)?(?:root|timestamp|snapshot|targets)\.json$/;

/** Where the verified metadata is mirrored for LAN clients, under consistent-snapshot names. */
export function tufMirrorDir(dataDir: string): string {
  return join(dataDir, 'tuf', 'mirror', 'metadata');
}

/** The earliest expiry among the metadata this box trusts (ms), or undefined before the first verified sync. */
export async function trustedMetadataExpiry(dataDir: string): Promise<number | undefined> {
  const dir = join(dataDir, 'tuf', 'client');
  const expiries: number[] = [];
  for (const role of ['root', 'timestamp', 'snapshot', 'targets']) {
    try {
      const doc = JSON.parse(await readFile(join(dir, `${role}.json`), 'utf8')) as { signed?: { expires?: string } };
      const t = Date.parse(doc.signed?.expires ?? '');
      if (!Number.isNaN(t)) expiries.push(t);
    } catch {
      // not synced yet, or being rewritten: no figure from this file
    }
  }
  return expiries.length === 4 ? Math.min(...expiries) : undefined;
}

export function isMirroredMetadataName(name: string): boolean {
  return METADATA_NAME.test(name);
}

/** The stable code of a tuf-js failure (its error classes, or the network); shared by the sync and `plugsrv fetch`. */
export function tufErrorCode(err: unknown): ErrorCode {
  if (err instanceof AgentError) return err.code;
  // tuf-js's error classes do not set `name`; ours (in the fetcher) do.
  const names = new Set([(err as { constructor?: { name?: string } })?.constructor?.name, (err as Error)?.name]);
  const is = (...n: string[]): boolean => n.some((x) => names.has(x));
  const detail = (err as Error)?.message ?? String(err);
  return is('UnsignedMetadataError')
      ? ErrorCode.TUF_SIGNATURE
      : is('ExpiredMetadataError')
        ? ErrorCode.TUF_EXPIRED
        : is('BadVersionError', 'EqualVersionError')
          ? ErrorCode.TUF_ROLLBACK
          : is('DownloadLengthMismatchError')
            ? ErrorCode.TUF_LENGTH
            : is('DownloadHTTPError', 'DownloadError') || /fetch failed|ECONNREFUSED|ENOTFOUND|ETIMEDOUT|timeout/i.test(detail)
              ? ErrorCode.ORIGIN
              : ErrorCode.TUF_METADATA;
}

/** Maps tuf-js's error classes to our stable codes, with a message that says what it means for the site. */
export function tufError(err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  const detail = (err as Error)?.message ?? String(err);
  const code = tufErrorCode(err);
  const what: Record<string, string> = {
    E_TUF_SIGNATURE: 'the catalog metadata is not signed by the trusted keys (tampered, or signed with a wrong key)',
    E_TUF_EXPIRED: 'the catalog metadata has expired (the origin stopped publishing, or this box\'s clock is wrong)',
    E_TUF_ROLLBACK: 'the origin offers an older catalog version than this box already trusts (rollback attempt or a stale mirror)',
    E_TUF_LENGTH: 'the origin sent more metadata than allowed (endless-data attack or a broken proxy)',
    E_TUF_METADATA: 'the catalog metadata is inconsistent or malformed (mix-and-match of versions, or corruption)',
    E_ORIGIN: 'the origin could not be reached',
  };
  return new AgentError(code, `catalog refresh refused: ${what[code] ?? detail} (${detail}). Packages already verified stay served; the sync retries later.`, { cause: err });
}

/** Reads at most `cap` bytes of a stream; more is an error (tuf-js enforces the real limits on its own branch). */
async function readCapped(stream: ReadableStream<Uint8Array>, cap: number): Promise<Buffer | undefined> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    size += value.length;
    if (size > cap) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
}

const MIRROR_CAP_BYTES = 32 * 1024 * 1024;

/** tuf-js fetcher over Node's fetch that keeps the bytes of every metadata file it fetched, for the LAN mirror. */
class RecordingFetcher extends BaseFetcher {
  private readonly pending = new Map<string, Promise<Buffer | undefined>>();
  constructor(private readonly timeoutMs: number) {
    super();
  }
  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const res = await globalThis.fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok || !res.body) throw new DownloadHTTPError(`GET ${url}: HTTP ${res.status}`, res.status);
    const name = url.slice(url.lastIndexOf('/') + 1);
    if (!METADATA_NAME.test(name)) return res.body as ReadableStream<Uint8Array<ArrayBuffer>>;
    const [mine, theirs] = res.body.tee();
    this.pending.set(name, readCapped(mine, MIRROR_CAP_BYTES).catch(() => undefined));
    return theirs as ReadableStream<Uint8Array<ArrayBuffer>>;
  }
  /** Every metadata file fetched in full, by file name. */
  async fetched(): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    for (const [name, p] of this.pending) {
      const bytes = await p;
      if (bytes) out.set(name, bytes);
    }
    return out;
  }
}

async function atomicWrite(path: string, data: Buffer | string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export class CatalogClient {
  readonly clientDir: string;
  readonly mirrorDir: string;
  private readonly backupDir: string;

  constructor(private readonly opts: CatalogClientOptions) {
    this.clientDir = join(opts.dataDir, 'tuf', 'client');
    this.backupDir = join(opts.dataDir, 'tuf', 'client.good');
    this.mirrorDir = tufMirrorDir(opts.dataDir);
  }

  private async ensureTrustedRoot(): Promise<void> {
    await mkdir(this.clientDir, { recursive: true, mode: 0o750 });
    await mkdir(this.mirrorDir, { recursive: true, mode: 0o750 });
    if (existsSync(join(this.clientDir, 'root.json'))) return;
    if (existsSync(join(this.backupDir, 'root.json'))) return this.restoreBackup();
    try {
      await copyFile(this.opts.trustedRootFile, join(this.clientDir, 'root.json'));
    } catch (err) {
      throw new AgentError(ErrorCode.CONFIG, `cannot read the pinned root ${this.opts.trustedRootFile} (sync.trustedRoot): ${(err as Error).message}. The box needs the catalog's root.json to trust anything.`, { cause: err });
    }
  }

  /** tuf-js writes its local metadata in place; after a crash mid-write we fall back to the last good set. */
  private async restoreBackup(): Promise<void> {
    await rm(this.clientDir, { recursive: true, force: true });
    await mkdir(this.clientDir, { recursive: true, mode: 0o750 });
    for (const name of await readdir(this.backupDir)) await copyFile(join(this.backupDir, name), join(this.clientDir, name));
  }

  private async saveBackup(): Promise<void> {
    const tmp = `${this.backupDir}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    for (const name of await readdir(this.clientDir)) await copyFile(join(this.clientDir, name), join(tmp, name));
    await rm(this.backupDir, { recursive: true, force: true });
    await rename(tmp, this.backupDir);
  }

  private updater(fetcher: RecordingFetcher): Updater {
    return new Updater({
      metadataDir: this.clientDir,
      metadataBaseUrl: `${this.opts.originUrl.replace(/\/$/, '')}/metadata`,
      targetBaseUrl: `${this.opts.originUrl.replace(/\/$/, '')}/targets`,
      fetcher,
      config: { fetchTimeout: this.opts.fetchTimeoutMs },
    });
  }

  /** Refreshes and verifies the whole metadata chain; on any refusal the previously trusted state is kept. */
  async refresh(): Promise<VerifiedCatalog> {
    await this.ensureTrustedRoot();
    const fetcher = new RecordingFetcher(this.opts.fetchTimeoutMs);
    try {
      await this.updater(fetcher).refresh();
    } catch (err) {
      const mapped = tufError(err);
      if (mapped.code === ErrorCode.TUF_METADATA && existsSync(this.backupDir) && /JSON|Unexpected|parse/i.test(String((err as Error).message))) {
        this.opts.log.warn('sync: local catalog metadata was damaged; restored the last good copy', { error: err });
        await this.restoreBackup();
      }
      throw mapped;
    }
    await this.saveBackup();
    const catalog = await this.readVerified();
    await this.mirror(await fetcher.fetched());
    return catalog;
  }

  /** Reads the targets tuf-js has just verified and persisted (top-level targets; delegations are not used). */
  private async readVerified(): Promise<VerifiedCatalog> {
    const read = async (role: string): Promise<{ signed: { version: number; expires: string; targets?: Record<string, { length: number; hashes: Record<string, string>; custom?: unknown }> } }> =>
      JSON.parse(await readFile(join(this.clientDir, `${role}.json`), 'utf8'));
    const [root, timestamp, snapshot, targets] = await Promise.all(['root', 'timestamp', 'snapshot', 'targets'].map(read));
    const list: CatalogTarget[] = [];
    for (const [path, info] of Object.entries(targets!.signed.targets ?? {})) {
      const sha256 = info.hashes.sha256;
      const custom = customSchema.safeParse(info.custom);
      if (!sha256 || !custom.success) {
        this.opts.log.warn('sync: skipping a target without sha256 or without valid plugsrv metadata', { path });
        continue;
      }
      list.push({ path, sha256, size: info.length, custom: custom.data });
    }
    const expiresAt = Math.min(...[root, timestamp, snapshot, targets].map((m) => Date.parse(m!.signed.expires)));
    return { version: targets!.signed.version, targets: list, expiresAt };
  }

  /** Publishes the verified metadata under consistent-snapshot names for LAN clients (/tuf/metadata/...). */
  private async mirror(fetched: Map<string, Buffer>): Promise<void> {
    for (const [name, bytes] of fetched) if (/^\d+\.root\.json$/.test(name)) await atomicWrite(join(this.mirrorDir, name), bytes);
    for (const role of ['root', 'snapshot', 'targets']) {
      const bytes = await readFile(join(this.clientDir, `${role}.json`));
      const version = (JSON.parse(bytes.toString('utf8')) as { signed: { version: number } }).signed.version;
      await atomicWrite(join(this.mirrorDir, `${version}.${role}.json`), bytes);
      if (role === 'root') await atomicWrite(join(this.mirrorDir, 'root.json'), bytes);
    }
    // timestamp.json last: a LAN client only ever sees a timestamp whose snapshot and targets are already in place.
    await atomicWrite(join(this.mirrorDir, 'timestamp.json'), await readFile(join(this.clientDir, 'timestamp.json')));
  }
}
