// Plain data shared by the console's state machine, its views and the services that do the I/O.

export type Lang = 'fr' | 'en';

/** A validated network set-up, ready to render and apply. */
export type NetworkSettings =
  | { readonly mode: 'dhcp' }
  | { readonly mode: 'static'; readonly address: string; readonly prefix: number; readonly gateway: string; readonly dns: readonly string[] };

export type ApplyWith = 'networkd' | 'iproute2';

/** What the network screen shows about the interface before a change. */
export interface NetworkStatus {
  readonly iface: string;
  readonly carrier: boolean;
  /** IPv4 addresses in CIDR form. */
  readonly addresses: readonly string[];
  readonly gateway?: string;
  readonly applyWith: ApplyWith;
  /** The `.network` file the console writes. */
  readonly filePath: string;
  /** The set-up read back from that file, when it exists and is one of ours. */
  readonly fileSettings?: NetworkSettings;
}

export type ApplyStep = 'writing' | 'applying' | 'checking' | 'restoring';

/** Why a change was not kept. */
export type FailureReason =
  | { readonly code: 'gatewayUnreachable'; readonly gateway: string; readonly seconds: number }
  | { readonly code: 'linkDown'; readonly iface: string; readonly seconds: number }
  | { readonly code: 'noAddress'; readonly iface: string; readonly seconds: number }
  | { readonly code: 'noGateway'; readonly iface: string; readonly seconds: number }
  | { readonly code: 'applyFailed'; readonly detail: string }
  | { readonly code: 'dhcpUnsupported' };

/** Result of an apply: the new set-up works and awaits "keep?", or it was refused or rolled back. */
export type ApplyOutcome =
  | { readonly ok: true; readonly gateway: string }
  | {
      readonly ok: false;
      readonly reason: FailureReason;
      /** Whether anything was changed before the failure (if not, nothing had to be restored). */
      readonly changed: boolean;
      readonly restored: boolean;
      readonly restoreError?: string;
    };

export type RevertWhy = 'declined' | 'timeout';

export interface RevertOutcome {
  readonly restored: boolean;
  readonly restoreError?: string;
}

/** Result of a password check: on failure, either the tries left before the lockout or the lockout's end. */
export type PasswordCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly triesLeft?: number; readonly lockedUntil?: number; readonly error?: string };

export type EnrollmentStatus =
  | { readonly state: 'not-enrolled' }
  | { readonly state: 'enrolled'; readonly deviceId: string; readonly enrolledAt?: string; readonly fleetUrl?: string }
  | { readonly state: 'unreadable'; readonly detail: string };
