// Pure SNTP packet logic (RFC 4330 / RFC 5905): timestamp conversion, 48-byte encode/decode, reply checks, offset and delay.

/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;
export const NTP_PACKET_LENGTH = 48;
const TWO_32 = 4_294_967_296;

export const MODE_CLIENT = 3;
export const MODE_SERVER = 4;
/** Leap indicator 3: the server's clock is not synchronised (alarm condition). */
export const LEAP_UNSYNCHRONISED = 3;
/** RFC 5905: stratum 16 means unsynchronised. */
export const STRATUM_UNSYNCHRONISED = 16;

/** A 64-bit NTP timestamp: seconds since 1900 (mod 2^32) and a 2^-32 s fraction. */
export interface NtpTimestamp {
  readonly seconds: number;
  readonly fraction: number;
}

export const ZERO_TIMESTAMP: NtpTimestamp = { seconds: 0, fraction: 0 };

/** Every field of the fixed 48-byte header (no extension fields, no MAC). */
export interface NtpPacket {
  readonly leap: number;
  readonly version: number;
  readonly mode: number;
  readonly stratum: number;
  readonly poll: number;
  readonly precision: number;
  /** Raw 32-bit NTP short format (16.16 seconds). */
  readonly rootDelay: number;
  readonly rootDispersion: number;
  /** The 4 raw bytes of the reference id. */
  readonly refId: Uint8Array;
  readonly reference: NtpTimestamp;
  readonly originate: NtpTimestamp;
  readonly receive: NtpTimestamp;
  readonly transmit: NtpTimestamp;
}

/** Unix ms (may be fractional) to an NTP timestamp; seconds wrap at 2^32 (era 0 ends 2036-02-07). */
export function msToNtp(ms: number): NtpTimestamp {
  const unixSeconds = Math.floor(ms / 1000);
  const fractionMs = ms - unixSeconds * 1000;
  const seconds = (((unixSeconds + NTP_UNIX_OFFSET_S) % TWO_32) + TWO_32) % TWO_32;
  const fraction = Math.min(TWO_32 - 1, Math.max(0, Math.floor((fractionMs / 1000) * TWO_32)));
  return { seconds, fraction };
}

/**
 * NTP timestamp to Unix ms. RFC 4330 section 3: when the high bit of the seconds is clear the
 * timestamp is taken to be in era 1 (from 2036), which covers 1968 to 2104.
 */
export function ntpToMs(ts: NtpTimestamp): number {
  const seconds = ts.seconds >= 0x8000_0000 ? ts.seconds : ts.seconds + TWO_32;
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (ts.fraction / TWO_32) * 1000;
}

export function sameTimestamp(a: NtpTimestamp, b: NtpTimestamp): boolean {
  return a.seconds === b.seconds && a.fraction === b.fraction;
}

export function isZeroTimestamp(ts: NtpTimestamp): boolean {
  return ts.seconds === 0 && ts.fraction === 0;
}

function writeTimestamp(buf: Buffer, offset: number, ts: NtpTimestamp): void {
  buf.writeUInt32BE(ts.seconds >>> 0, offset);
  buf.writeUInt32BE(ts.fraction >>> 0, offset + 4);
}

function readTimestamp(buf: Buffer, offset: number): NtpTimestamp {
  return { seconds: buf.readUInt32BE(offset), fraction: buf.readUInt32BE(offset + 4) };
}

export function encodePacket(p: NtpPacket): Buffer {
  const buf = Buffer.alloc(NTP_PACKET_LENGTH);
  buf.writeUInt8(((p.leap & 0x3) << 6) | ((p.version & 0x7) << 3) | (p.mode & 0x7), 0);
  buf.writeUInt8(p.stratum & 0xff, 1);
  buf.writeInt8(p.poll, 2);
  buf.writeInt8(p.precision, 3);
  buf.writeUInt32BE(p.rootDelay >>> 0, 4);
  buf.writeUInt32BE(p.rootDispersion >>> 0, 8);
  for (let i = 0; i < 4; i++) buf.writeUInt8(p.refId[i] ?? 0, 12 + i);
  writeTimestamp(buf, 16, p.reference);
  writeTimestamp(buf, 24, p.originate);
  writeTimestamp(buf, 32, p.receive);
  writeTimestamp(buf, 40, p.transmit);
  return buf;
}

/** Decodes the 48-byte header; extension fields or a MAC after it are ignored. Undefined if too short. */
export function decodePacket(buf: Uint8Array): NtpPacket | undefined {
  if (buf.length < NTP_PACKET_LENGTH) return undefined;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const first = b.readUInt8(0);
  return {
    leap: first >> 6,
    version: (first >> 3) & 0x7,
    mode: first & 0x7,
    stratum: b.readUInt8(1),
    poll: b.readInt8(2),
    precision: b.readInt8(3),
    rootDelay: b.readUInt32BE(4),
    rootDispersion: b.readUInt32BE(8),
    refId: Uint8Array.from(b.subarray(12, 16)),
    reference: readTimestamp(b, 16),
    originate: readTimestamp(b, 24),
    receive: readTimestamp(b, 32),
    transmit: readTimestamp(b, 40),
  };
}

/** The client request: LI=0, VN=4, Mode=3, everything zero but the transmit timestamp (T1). */
export function encodeRequest(transmit: NtpTimestamp): Buffer {
  return encodePacket({
    leap: 0,
    version: 4,
    mode: MODE_CLIENT,
    stratum: 0,
    poll: 0,
    precision: 0,
    rootDelay: 0,
    rootDispersion: 0,
    refId: new Uint8Array(4),
    reference: ZERO_TIMESTAMP,
    originate: ZERO_TIMESTAMP,
    receive: ZERO_TIMESTAMP,
    transmit,
  });
}

/** The reference id as ASCII (stratum 0 kiss code, stratum 1 source such as `GPS`), NULs and non-printables dropped. */
export function refIdAscii(refId: Uint8Array): string {
  let out = '';
  for (const byte of refId) if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
  return out;
}

/** The reference id for a person: ASCII for stratum 0 and 1, a dotted quad above (IPv4 address or IPv6 hash). */
export function refIdText(stratum: number, refId: Uint8Array): string {
  if (stratum <= 1) return refIdAscii(refId);
  return Array.from(refId.subarray(0, 4)).join('.');
}

export type ReplyCheck =
  | { readonly kind: 'ok'; readonly unsynchronised: boolean }
  | { readonly kind: 'kiss'; readonly code: string }
  | { readonly kind: 'bogus'; readonly why: string };

/**
 * The RFC 4330 section 5 client checks, in an order that resists spoofing: a reply whose originate
 * timestamp is not our transmit timestamp is rejected before anything else in it is believed,
 * including a kiss-o'-death.
 */
export function checkReply(reply: NtpPacket, sent: NtpTimestamp): ReplyCheck {
  if (reply.mode !== MODE_SERVER) return { kind: 'bogus', why: `mode ${reply.mode}, expected ${MODE_SERVER} (server)` };
  if (reply.version !== 3 && reply.version !== 4) return { kind: 'bogus', why: `version ${reply.version}, expected 3 or 4` };
  if (!sameTimestamp(reply.originate, sent)) return { kind: 'bogus', why: 'originate timestamp does not match the request' };
  if (reply.stratum === 0) return { kind: 'kiss', code: refIdAscii(reply.refId) };
  if (reply.stratum > STRATUM_UNSYNCHRONISED) return { kind: 'bogus', why: `stratum ${reply.stratum} out of range` };
  if (isZeroTimestamp(reply.transmit)) return { kind: 'bogus', why: 'zero transmit timestamp' };
  if (isZeroTimestamp(reply.receive)) return { kind: 'bogus', why: 'zero receive timestamp' };
  return { kind: 'ok', unsynchronised: reply.leap === LEAP_UNSYNCHRONISED || reply.stratum === STRATUM_UNSYNCHRONISED };
}

export interface ClockSample {
  /** How far the server's clock is ahead of ours (positive: our clock is behind), ms. */
  readonly offsetMs: number;
  /** Round trip minus the server's processing time, ms. */
  readonly delayMs: number;
}

/** RFC 4330: offset = ((T2 - T1) + (T3 - T4)) / 2, delay = (T4 - T1) - (T3 - T2); all in Unix ms. */
export function clockSample(t1: number, t2: number, t3: number, t4: number): ClockSample {
  return { offsetMs: (t2 - t1 + (t3 - t4)) / 2, delayMs: t4 - t1 - (t3 - t2) };
}
