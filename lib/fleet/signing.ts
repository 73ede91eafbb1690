// Command signatures: the fleet signs the exact payload text with Ed25519; the agent verifies it with the pinned key.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { CommandPayload, SignedCommand } from './protocol.js';

/** First 16 hex digits of sha256(SPKI DER): names a command key in each signed command. */
export function commandKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** Signs a payload with the fleet's Ed25519 private key. The payload text is what travels and what is verified. */
export function signCommand(payload: CommandPayload, privateKey: KeyObject): SignedCommand {
  const text = JSON.stringify(payload);
  const signature = sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64');
  return { payload: text, signature, keyId: commandKeyId(createPublicKey(privateKey)) };
}

/** True when `signature` is a valid Ed25519 signature of `payload` by `publicKey` (and the key id matches). */
export function verifyCommandSignature(command: SignedCommand, publicKey: KeyObject): boolean {
  if (command.keyId !== commandKeyId(publicKey)) return false;
  try {
    return verify(null, Buffer.from(command.payload, 'utf8'), publicKey, Buffer.from(command.signature, 'base64'));
  } catch {
    return false;
  }
}
