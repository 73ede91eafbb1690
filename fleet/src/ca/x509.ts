// The fleet's PKI algorithms, and x509 from lib (loaded behind its Reflect shim).
import { webcrypto } from 'node:crypto';
export { x509 } from '../../../lib/x509/index.js';

/** ECDSA P-256 with SHA-256: every key and signature of the fleet's PKI. */
export const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const subtle = webcrypto.subtle;
