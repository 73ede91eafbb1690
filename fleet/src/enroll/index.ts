// Public surface of enrollment.
export { RateLimiter, type RateLimitOptions, type RateDecision } from './rate-limit.js';
export { newBootstrapToken, parseBootstrapToken, checkToken, tokenExpiry, TOKEN_PREFIX, type TokenRecord } from './token.js';
export { createToken, listTokens, revokeToken, type TokenInfo, type TokenState } from './tokens.js';
export { enroll, renew, newDeviceId, type EnrollDeps, type EnrollOutcome } from './enroll.js';
