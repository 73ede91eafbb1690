// @peculiar/x509 over Node's WebCrypto, loaded after the Reflect shim it needs: import x509 from here, never directly.
import './reflect-shim.js';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
/** ECDSA P-256 with SHA-256: every key and signature of the fleet's PKI. */
export const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const subtle = webcrypto.subtle;
