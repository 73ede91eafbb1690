// Public surface of the console: pure state machine, views, validation, networkd rendering, password and lockout rules.
export type { Lang, NetworkSettings, NetworkStatus, ApplyWith, ApplyStep, FailureReason, ApplyOutcome, RevertWhy, RevertOutcome, PasswordCheck, EnrollmentStatus } from './types.js';
export { MESSAGES, messagesFor, type Messages, type Text } from './i18n.js';
export { parseIpv4, formatIpv4, parsePrefix, maskOf, networkOf, broadcastOf, inSubnet, classifyIpv4, MIN_PREFIX, MAX_PREFIX } from './ipv4.js';
export { validateNetworkForm, formFromStatus, splitDns, EMPTY_FORM, MAX_DNS_SERVERS, type NetworkFormValues, type FieldError, type FieldName } from './network-form.js';
export { renderNetworkd, parseNetworkd, networkFileName, NETWORK_FILE_MARK } from './networkd.js';
export {
  hashPassword,
  verifyPassword,
  parsePasswordHash,
  formatPasswordHash,
  checkNewPassword,
  normalisePassword,
  DEFAULT_SCRYPT,
  MIN_PASSWORD_LENGTH,
  MAX_PASSWORD_LENGTH,
  type PasswordHash,
  type ScryptParams,
} from './password.js';
export {
  afterFailure,
  afterSuccess,
  isLocked,
  lockRemainingMs,
  normaliseLockout,
  triesLeft,
  parseLockout,
  formatLockout,
  UNLOCKED,
  MAX_FAILURES,
  LOCKOUT_MS,
  FAILURE_DELAY_MS,
  type LockoutState,
} from './lockout.js';
export { identityFileReader, identityFile, parseIdentity, type EnrollmentReader } from './enrollment.js';
export { AltJoiner, keyFromTerminalKit, key, type Key, type NamedKey } from './keys.js';
export { initialState, update, MENU_ITEMS, IDLE_LOCK_MS, type ConsoleState, type ConsoleEvent, type Effect, type ScreenState, type Notice } from './state.js';
export { renderFrame } from './view.js';
export { selfcheckPages, SELFCHECK_PAGE_ROWS } from './view-selfcheck.js';
export { frameText, lineText, WIDTH, HEIGHT, type Frame, type Line, type Segment, type Style } from './frame.js';
export { ConsoleRuntime, type ConsoleServices, type PendingChange, type ApplyStart, type ApplyProgress, type ConsoleLog, type RuntimeOptions } from './runtime.js';
