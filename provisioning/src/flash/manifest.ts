// The image build's manifest.json (image/build.sh): which sha256 and size the image must have, and the sha256 of its bmap.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { systemErrorCode } from '../../../lib/errors.js';
import { LineError, ErrorCode } from '../errors.js';
import { formatBytes } from './units.js';

/** What the manifest says about the image (and its bmap, when the manifest lists it). */
export interface ImageExpectation {
  readonly manifest: string;
  /** The image's file name as listed in `outputs[].file`. */
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  /** The bmap's entry, when `outputs[]` lists a file of the bmap's name. */
  readonly bmap?: { readonly file: string; readonly sha256: string };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const REBUILD = 'Use the manifest.json built with this image (next to it in the build output), or rebuild the image (npm run image:build).';

function mismatch(message: string, manifest: string): LineError {
  return new LineError(ErrorCode.IMAGE_MISMATCH, message, { details: { manifest } });
}

interface Output {
  file: string;
  sha256: string;
  bytes?: number;
}

function outputsOf(json: unknown, manifest: string): Output[] {
  const outputs = typeof json === 'object' && json !== null && 'outputs' in json ? json.outputs : undefined;
  if (!Array.isArray(outputs)) throw mismatch(`manifest ${manifest} has no "outputs" list: it is not an image build manifest. ${REBUILD}`, manifest);
  return outputs.map((o: unknown, i): Output => {
    const entry = (typeof o === 'object' && o !== null ? o : {}) as Record<string, unknown>;
    const { file, sha256, bytes } = entry;
    if (typeof file !== 'string' || typeof sha256 !== 'string' || !SHA256_HEX.test(sha256) || (bytes !== undefined && (!Number.isSafeInteger(bytes) || (bytes as number) < 0))) {
      throw mismatch(`manifest ${manifest}: outputs[${i}] is not {file, sha256 (64 lower-case hex), bytes}. ${REBUILD}`, manifest);
    }
    return bytes === undefined ? { file, sha256 } : { file, sha256, bytes: bytes as number };
  });
}

/**
 * Pure: the manifest entry of the image named `imageFile` (and of `bmapFile`, when listed). E_IMAGE_MISMATCH when the
 * image is not listed, has no size, or when `imageBytes` (the image file's size) differs from it.
 */
export function expectationFrom(json: unknown, manifest: string, imageFile: string, imageBytes?: number, bmapFile?: string): ImageExpectation {
  const outputs = outputsOf(json, manifest);
  const entry = outputs.find((o) => o.file === imageFile);
  if (!entry) {
    const listed = outputs.map((o) => o.file).join(', ') || 'nothing';
    throw mismatch(`manifest ${manifest} does not list ${imageFile} (it lists ${listed}): it is the manifest of another build. ${REBUILD}`, manifest);
  }
  if (entry.bytes === undefined) throw mismatch(`manifest ${manifest} gives no size ("bytes") for ${imageFile}. ${REBUILD}`, manifest);
  if (imageBytes !== undefined && imageBytes !== entry.bytes) {
    throw mismatch(
      `image ${imageFile} is ${imageBytes} bytes (${formatBytes(imageBytes)}) but manifest ${manifest} says ${entry.bytes} (${formatBytes(entry.bytes)}): the image is truncated, still being copied, or from another build. Copy it again from the build output and check it with \`sha256sum -c SHA256SUMS\`.`,
      manifest,
    );
  }
  const bmap = bmapFile === undefined ? undefined : outputs.find((o) => o.file === bmapFile);
  return { manifest, file: entry.file, sha256: entry.sha256, bytes: entry.bytes, ...(bmap ? { bmap: { file: bmap.file, sha256: bmap.sha256 } } : {}) };
}

/** Reads `manifestPath` and returns what it says about `imagePath` (of `imageBytes` bytes) and `bmapPath`. */
export async function readImageManifest(manifestPath: string, imagePath: string, imageBytes: number, bmapPath?: string): Promise<ImageExpectation> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (err) {
    const code = systemErrorCode(err);
    if (code === 'ENOENT') {
      throw new LineError(ErrorCode.NOT_FOUND, `image manifest ${manifestPath} does not exist: give the manifest.json built with the image (--manifest), found next to it in the build output.`, { cause: err, details: { manifest: manifestPath } });
    }
    throw new LineError(ErrorCode.IMAGE_MISMATCH, `cannot read image manifest ${manifestPath} (${code ?? String(err)}).`, { cause: err, details: { manifest: manifestPath } });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw mismatch(`manifest ${manifestPath} is not JSON (${(err as Error).message}). ${REBUILD}`, manifestPath);
  }
  return expectationFrom(json, manifestPath, basename(imagePath), imageBytes, bmapPath === undefined ? undefined : basename(bmapPath));
}
