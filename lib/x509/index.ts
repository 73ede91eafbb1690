// @peculiar/x509 over Node's WebCrypto, loaded after the Reflect shim it needs: the fleet's CA and the agent's CSR
// both import x509 from here, never from the package directly.
import './reflect-shim.js';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
