// Public surface of the fleet client: enrollment, device identity, the device socket, signed commands, wipe.
export { FleetRole, type FleetRoleParts, type FleetRoleOptions } from './role.js';
export { checkCommand, type CommandVerdict, type AcceptedCommand, type CommandRejectCode } from './command-check.js';
export { CommandRunner, resultOf, type CommandAdapters, type CommandOutcome, type ResultMessage } from './commands.js';
export { FleetClient, type FleetClientDeps } from './client.js';
export { Backoff, backoffDelay, backoffCeiling, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { buildHeartbeat, type HeartbeatParts, type HeartbeatMessage } from './heartbeat.js';
export { enrollDevice, readToken, enrollError, isRetryable, checkEnrollResponse, type EnrollOptions } from './enroll.js';
export { loadIdentity, saveIdentity, readDeviceRecord, removeIdentity, identityDir, splitPemChain, IDENTITY_FILES, type DeviceIdentity, type DeviceRecord } from './identity.js';
export { createKeyAndCsr } from './csr.js';
export { readCaFile, fleetTrustAnchors } from './https.js';
export { collectInventory, readSerial, hardwareInventory } from './inventory.js';
export { LogRing, logSource, capLines, journaldInUse, MAX_LOG_BYTES } from './logs.js';
export { applyPolicyToConfig, policySettings, requiredHostFlows, withRequiredHosts, type PolicySettings } from './policy.js';
export { needsRenewal, certificateValidity, renewCertificate } from './renew.js';
export { enrollmentSummary, fleetStatus, type EnrollmentSummary, type FleetStatus } from './status.js';
export { readLastSeq, readPolicy, readLink, LOCK_KEY, type LinkRecord } from './state.js';
export { EXIT_WIPED, WIPE_MARKER, finishPendingWipe, markWipePending, pendingWipe, type WipeRequest } from './wipe.js';
