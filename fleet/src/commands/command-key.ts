// The fleet's Ed25519 command signing key: generated at first start into <dataDir>/keys/command.key (0600).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandKeyId } from '../../../lib/fleet/signing.js';
import { checkKeyFile, writeSecretFile } from '../ca/index.js';
import { ErrorCode, FleetError } from '../errors.js';

export interface CommandKey {
  readonly privateKey: KeyObject;
  /** SPKI PEM: what devices pin (enrollment response `commandKey`). */
  readonly publicKeyPem: string;
  readonly keyId: string;
  readonly file: string;
}

export function commandKeyFile(dataDir: string): string {
  return join(dataDir, 'keys', 'command.key');
}

export function loadCommandKey(dataDir: string): CommandKey {
  const file = commandKeyFile(dataDir);
  let privateKey: KeyObject;
  if (!existsSync(file)) {
    privateKey = generateKeyPairSync('ed25519').privateKey;
    writeSecretFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  } else {
    checkKeyFile(file);
    try {
      privateKey = createPrivateKey(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new FleetError(ErrorCode.CA, `${file} is not a PEM private key: ${(err as Error).message}. Restore it from a backup: devices pin the command key.`, { cause: err });
    }
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw new FleetError(ErrorCode.CA, `${file} holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key; the command key must be Ed25519. Restore the fleet's own key.`);
    }
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, keyId: commandKeyId(publicKey), file };
}
