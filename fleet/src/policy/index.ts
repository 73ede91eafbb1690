// Public surface of policies.
export { buildPolicy, effectiveVersion, DEFAULT_POLICY } from './policy.js';
export { PolicyService, type PolicyInfo } from './service.js';
