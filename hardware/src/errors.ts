// Hardware's error codes: typed errors with a stable code and a message that says what to do.
// The agent CLI maps them to exit codes once, in agent/src/errors.ts (exitCodeOf).
import { PlugsrvError, type ErrorDetails } from '../../lib/errors.js';

export const HwErrorCode = {
  /** A profile is unknown, unreadable or invalid (the message names the file and key path). */
  PROFILE: 'E_HW_PROFILE',
  /** Bad input to a hardware command (level, step name, scale, server address). */
  INPUT: 'E_HW_INPUT',
  /** The system tree (sysfs, procfs) could not be read where it must be. */
  READ: 'E_HW_READ',
  /** A burn-in tool is not installed; the message names the Debian package. */
  TOOL_MISSING: 'E_HW_TOOL_MISSING',
  /** The burn-in scratch directory is unusable (tmpfs, full, not writable). */
  SCRATCH: 'E_HW_SCRATCH',
  /** `hw check`: the unit is not what the profile expects. */
  MISMATCH: 'E_HW_MISMATCH',
  /** The burn-in ran and at least one step failed. */
  BURNIN_FAILED: 'E_BURNIN_FAILED',
  /** The burn-in was stopped (Ctrl-C, SIGTERM) before it finished; a partial report was written. */
  BURNIN_INTERRUPTED: 'E_BURNIN_INTERRUPTED',
} as const;
export type HwErrorCode = (typeof HwErrorCode)[keyof typeof HwErrorCode];

export class HardwareError extends PlugsrvError {
  declare readonly code: HwErrorCode;
  constructor(code: HwErrorCode, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(code, message, options);
    this.name = 'HardwareError';
  }
}
