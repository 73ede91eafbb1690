// Public surface of operator authentication: API keys, scopes, and the credential format they share with bootstrap tokens.
export { createApiKey, listApiKeys, revokeApiKey, authenticate, keyIdOf, API_KEY_PREFIX, type ApiKeyInfo, type Principal } from './api-keys.js';
export { scopeAllows, SCOPE_ORDER } from './scopes.js';
export { randomId, newCredential, formatCredential, parseCredential, hashSecret, secretMatches, type Credential } from './credential.js';
