// The device identity in <dataDir>/identity/: private key, certificate, CA chain, pinned command key, device record.
// Every file is written durably (temp + fsync + rename + directory fsync); a renewal that died half-way is finished or undone at load.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { systemErrorCode } from '../../../lib/errors.js';
import { fsyncDir, writeFileDurable as writeDurable } from '../../../lib/fs-durable.js';

/** device.json. */
export interface DeviceRecord {
  deviceId: string;
  dealerCode: string;
  /** Base URL of the fleet's HTTPS API (enrollment, renewal). */
  fleetUrl: string;
  /** wss URL of the device channel. */
  socketUrl: string;
  /** ISO time. */
  enrolledAt: string;
  /** The serial sent at enrollment (CN of the CSRs). */
  serial: string;
}

export interface DeviceIdentity extends DeviceRecord {
  keyPem: string;
  certPem: string;
  /** Device CA first, fleet root last (as the fleet sent them). */
  caChain: string[];
  /** Ed25519 SPKI PEM pinned at enrollment. */
  commandKeyPem: string;
}

export const IDENTITY_FILES = { key: 'key.pem', cert: 'cert.pem', chain: 'ca-chain.pem', commandKey: 'command-key.pem', device: 'device.json' } as const;

export function identityDir(dataDir: string): string {
  return join(dataDir, 'identity');
}

/** Identity files are private by default (lib/fs-durable: temp, fsync, rename, directory fsync). */
export function writeFileDurable(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
  return writeDurable(path, data, mode);
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, in order. */
export function splitPemChain(text: string): string[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => `${m[0]}\n`);
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (err: unknown) => {
      if (systemErrorCode(err) === 'ENOENT') return false;
      throw err;
    },
  );
}

/**
 * A renewal writes key.pem.new, then cert.pem.new, then renames key then cert. So: cert.pem.new present = the new
 * pair is complete, finish the renames; only key.pem.new = the fleet never answered, drop it.
 */
async function finishRenewal(dir: string): Promise<void> {
  const keyNew = join(dir, `${IDENTITY_FILES.key}.new`);
  const certNew = join(dir, `${IDENTITY_FILES.cert}.new`);
  const chainNew = join(dir, `${IDENTITY_FILES.chain}.new`);
  if (await exists(certNew)) {
    if (await exists(keyNew)) await rename(keyNew, join(dir, IDENTITY_FILES.key));
    if (await exists(chainNew)) await rename(chainNew, join(dir, IDENTITY_FILES.chain));
    await rename(certNew, join(dir, IDENTITY_FILES.cert));
    await fsyncDir(dir);
  } else {
    await rm(keyNew, { force: true });
    await rm(chainNew, { force: true });
  }
}

/** The enrolled identity, or undefined when this device is not enrolled (no complete identity directory). */
export async function loadIdentity(dataDir: string): Promise<DeviceIdentity | undefined> {
  const dir = identityDir(dataDir);
  const deviceText = await readIfExists(join(dir, IDENTITY_FILES.device));
  if (deviceText === undefined) return undefined;
  await finishRenewal(dir);
  const [keyPem, certPem, chain, commandKeyPem] = await Promise.all(
    [IDENTITY_FILES.key, IDENTITY_FILES.cert, IDENTITY_FILES.chain, IDENTITY_FILES.commandKey].map((f) => readIfExists(join(dir, f))),
  );
  if (keyPem === undefined || certPem === undefined || chain === undefined || commandKeyPem === undefined) return undefined;
  const record = JSON.parse(deviceText) as DeviceRecord;
  return { ...record, keyPem, certPem, caChain: splitPemChain(chain), commandKeyPem };
}

/** The device record only (no key read), for status displays. */
export async function readDeviceRecord(dataDir: string): Promise<DeviceRecord | undefined> {
  const text = await readIfExists(join(identityDir(dataDir), IDENTITY_FILES.device));
  return text === undefined ? undefined : (JSON.parse(text) as DeviceRecord);
}

/**
 * Writes a whole identity: into a staging directory, file by file durably with device.json last, then renamed into
 * place. An older identity (a forced re-enrollment) is moved aside first and removed after.
 */
export async function saveIdentity(dataDir: string, identity: DeviceIdentity): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const dir = identityDir(dataDir);
  const staging = join(dataDir, `identity.${randomBytes(6).toString('hex')}.new`);
  await mkdir(staging, { mode: 0o700 });
  try {
    const { keyPem, certPem, caChain, commandKeyPem, ...record } = identity;
    await writeFileDurable(join(staging, IDENTITY_FILES.key), keyPem, 0o600);
    await writeFileDurable(join(staging, IDENTITY_FILES.cert), certPem, 0o644);
    await writeFileDurable(join(staging, IDENTITY_FILES.chain), caChain.join(''), 0o644);
    await writeFileDurable(join(staging, IDENTITY_FILES.commandKey), commandKeyPem, 0o644);
    await writeFileDurable(join(staging, IDENTITY_FILES.device), `${JSON.stringify(record, null, 2)}\n`, 0o644);
    let old: string | undefined;
    if (await exists(dir)) {
      old = join(dataDir, `identity.${randomBytes(6).toString('hex')}.old`);
      await rename(dir, old);
    }
    await rename(staging, dir);
    await fsyncDir(dataDir);
    if (old) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Replaces key, certificate and chain after a renewal (crash-safe: see finishRenewal). */
export async function replaceCertificate(dataDir: string, next: { keyPem: string; certPem: string; caChain: string[] }): Promise<void> {
  const dir = identityDir(dataDir);
  await writeFileDurable(join(dir, `${IDENTITY_FILES.key}.new`), next.keyPem, 0o600);
  await writeFileDurable(join(dir, `${IDENTITY_FILES.chain}.new`), next.caChain.join(''), 0o644);
  await writeFileDurable(join(dir, `${IDENTITY_FILES.cert}.new`), next.certPem, 0o644);
  await finishRenewal(dir);
}

/** Forgets the identity (device.json first, so a crash half-way leaves "not enrolled", never a half identity). */
export async function removeIdentity(dataDir: string): Promise<void> {
  const dir = identityDir(dataDir);
  await rm(join(dir, IDENTITY_FILES.device), { force: true });
  await rm(dir, { recursive: true, force: true });
  await fsyncDir(dataDir).catch(() => undefined);
}
