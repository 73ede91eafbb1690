// Public surface of the fleet's PKI module.
export { loadAuthority, generatedRootFile, normalizeSerial, newSerial, type CertificateAuthority } from './authority.js';
export { checkCsr, type CheckedCsr } from './csr.js';
export { issueDeviceCertificate, type IssuedCertificate } from './issue.js';
export { checkKeyFile, writeSecretFile } from './files.js';
export { x509, EC_ALG } from './x509.js';
