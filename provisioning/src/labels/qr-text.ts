// Pure: what the label's QR code says, and reading it back at the line's scanner.
//
// Format, version 1: `PLUGSRV1;U:<unitId>;S:<serial>`, fields in this order, nothing else. Values are
// percent-encoded as by encodeURIComponent, so ';', ':', '%', spaces and non-ASCII characters can never be mistaken
// for the structure; the usual ids (letters, digits, '-', '_', '.') read as themselves. A future format changes the
// tag (PLUGSRV2), and this parser refuses it rather than guessing.
import { ErrorCode, LineError } from '../errors.js';

export const LABEL_QR_TAG = 'PLUGSRV1';

export interface LabelQrContent {
  readonly unitId: string;
  readonly serial: string;
}

function encodeField(name: string, value: string): string {
  if (value.trim() === '') throw new LineError(ErrorCode.INTERNAL, `the label's QR code needs a ${name}; it is empty`);
  return encodeURIComponent(value);
}

/** The QR code's text for a unit: `PLUGSRV1;U:<unitId>;S:<serial>` (values percent-encoded where needed). */
export function labelQrText(content: LabelQrContent): string {
  return `${LABEL_QR_TAG};U:${encodeField('unit id', content.unitId)};S:${encodeField('serial', content.serial)}`;
}

function notOurs(text: string, why: string): LineError {
  const shown = text.length > 80 ? `${text.slice(0, 80)}...` : text;
  return new LineError(
    ErrorCode.USAGE,
    `the scanned code is not a plugsrv unit label (${why}): ${JSON.stringify(shown)}. Scan the QR code on the unit's box label.`,
    { details: { scanned: shown } },
  );
}

function decodeField(text: string, part: string | undefined, prefix: string, name: string): string {
  if (part === undefined || !part.startsWith(prefix)) throw notOurs(text, `expected the ${name} as "${prefix}..."`);
  let value: string;
  try {
    value = decodeURIComponent(part.slice(prefix.length));
  } catch {
    throw notOurs(text, `the ${name} is badly percent-encoded`);
  }
  if (value.trim() === '') throw notOurs(text, `the ${name} is empty`);
  return value;
}

/**
 * Reads a label's QR text back (as a scanner typed it: surrounding white space and a trailing CR/LF are ignored).
 * Throws E_USAGE, saying why, for anything that is not a version-1 plugsrv label.
 */
export function parseLabelQrText(scanned: string): LabelQrContent {
  const text = scanned.trim();
  const parts = text.split(';');
  if (parts[0] !== LABEL_QR_TAG) {
    throw notOurs(text, /^PLUGSRV\d+$/.test(parts[0] ?? '') ? `format ${parts[0]} is not known to this version of plugsrv-line` : `it does not start with ${LABEL_QR_TAG};`);
  }
  if (parts.length !== 3) throw notOurs(text, `expected 3 fields separated by ";", found ${parts.length}`);
  const unitId = decodeField(text, parts[1], 'U:', 'unit id');
  const serial = decodeField(text, parts[2], 'S:', 'serial');
  return { unitId, serial };
}
