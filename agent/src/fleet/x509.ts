// x509 for the device's key and CSR, from lib (loaded behind its Reflect shim).
export { x509 } from '../../../lib/x509/index.js';
