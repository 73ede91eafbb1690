// What long line operations (flash, verify, personalise) report as they go; the CLI turns it into a bar or JSON lines.

export interface ProgressEvent {
  /** Which operation: 'verify-image', 'write', 'verify-target', 'personalise'. */
  readonly phase: string;
  /** The target (path) this event is about, when there are several. */
  readonly target?: string;
  readonly doneBytes: number;
  readonly totalBytes: number;
}

export type ProgressSink = (event: ProgressEvent) => void;

export const noProgress: ProgressSink = () => {};
