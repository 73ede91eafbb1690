// The catalog publisher's public surface: repository operations, the `catalog` CLI command and their types.
export { addTargets, initRepo, publish, removeTarget, rotateKeys } from './commands.js';
export type { AddedTarget, InitOptions, InitResult, PublishResult, RotateResult } from './commands.js';
export { catalogCommand, registerCatalogCommands, type Print } from './cli.js';
export { DEFAULT_EXPIRIES, expiresAt, parseDuration, parseExpiries, type Expiries } from './expiry.js';
export { canonicalJson, keyIdOf } from './keys.js';
export { layoutOf, ROLES, targetFile, type RepoLayout, type RoleName } from './layout.js';
export { CAMPAIGNS, targetInputFromFlags, validateTargetPath, type Campaign, type TargetCustom, type TargetFlags, type TargetInput } from './staging.js';
