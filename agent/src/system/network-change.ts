// One network change, end to end: keep what was there, write the .network file, apply it, check the link and the gateway
// within the limit, and put everything back if they do not answer (or if the person says no, or does not answer).
import { join } from 'node:path';
import { networkFileName, parseNetworkd, renderNetworkd, type NetworkSettings, type NetworkStatus, type RevertOutcome } from '../console/index.js';
import type { ApplyProgress, ApplyStart, ConsoleLog } from '../console/index.js';
import type { NetworkBackend } from './backends.js';
import { readTextIfExists, removeDurable, writeFileDurable } from './files.js';
import { waitForGateway, type LinkChecks } from './gateway-check.js';

export interface NetworkChangerOptions {
  iface: string;
  networkDir: string;
  backend: NetworkBackend;
  checks: LinkChecks;
  rollbackSeconds: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: ConsoleLog;
  /** Test hook: check pacing. */
  pollMs?: number;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class NetworkChanger {
  readonly iface: string;
  readonly filePath: string;
  readonly #o: NetworkChangerOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** One change at a time: a second apply while one waits for "keep?" would snapshot the unconfirmed state. */
  #busy = false;

  constructor(options: NetworkChangerOptions) {
    this.#o = options;
    this.iface = options.iface;
    this.filePath = join(options.networkDir, networkFileName(options.iface));
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
  }

  async status(): Promise<NetworkStatus> {
    const { checks, backend } = this.#o;
    const [carrier, addresses, gateway, file] = await Promise.all([
      checks.carrier(this.iface),
      checks.addresses(this.iface),
      checks.defaultGateway(this.iface),
      readTextIfExists(this.filePath),
    ]);
    const fileSettings = file === undefined ? undefined : parseNetworkd(file);
    return {
      iface: this.iface,
      carrier,
      addresses: addresses.map((a) => `${a.address}/${a.prefix}`),
      ...(gateway ? { gateway } : {}),
      applyWith: backend.name,
      filePath: this.filePath,
      ...(fileSettings ? { fileSettings } : {}),
    };
  }

  async apply(settings: NetworkSettings, onProgress: (p: ApplyProgress) => void = () => undefined): Promise<ApplyStart> {
    const { backend, checks, rollbackSeconds, log } = this.#o;
    if (settings.mode === 'dhcp' && !backend.supportsDhcp) return { ok: false, reason: { code: 'dhcpUnsupported' }, changed: false, restored: false };
    if (this.#busy) return { ok: false, reason: { code: 'applyFailed', detail: 'another change is in progress' }, changed: false, restored: false };
    this.#busy = true;
    let pendingHandedOut = false;
    try {
      onProgress({ step: 'writing' });
      let previousFile: string | undefined;
      let snapshot: unknown;
      try {
        previousFile = await readTextIfExists(this.filePath);
        snapshot = await backend.snapshot();
        await writeFileDurable(this.filePath, renderNetworkd(this.iface, settings, new Date(this.#now())));
      } catch (err) {
        // The write is atomic: the file is the old one or the new one. Only the old one can be there after a failed rename.
        return { ok: false, reason: { code: 'applyFailed', detail: message(err) }, changed: false, restored: false };
      }
      log?.info('console: network file written', { file: this.filePath, settings });

      let reverted = false;
      const rollback = async (): Promise<RevertOutcome> => {
        if (reverted) return { restored: true };
        reverted = true;
        onProgress({ step: 'restoring' });
        try {
          if (previousFile === undefined) await removeDurable(this.filePath);
          else await writeFileDurable(this.filePath, previousFile);
          await backend.restore(snapshot);
          log?.info('console: previous network set-up restored', { file: this.filePath });
          return { restored: true };
        } catch (err) {
          log?.warn('console: restoring the previous network set-up failed', { file: this.filePath, error: message(err) });
          return { restored: false, restoreError: message(err) };
        }
      };

      onProgress({ step: 'applying' });
      try {
        await backend.apply(settings);
      } catch (err) {
        return { ok: false, reason: { code: 'applyFailed', detail: message(err) }, changed: true, ...(await rollback()) };
      }

      const deadline = this.#now() + rollbackSeconds * 1000;
      onProgress({ step: 'checking', deadline, ...(settings.mode === 'static' ? { gateway: settings.gateway } : {}) });
      const check = await waitForGateway({
        iface: this.iface,
        settings,
        checks,
        deadline,
        seconds: rollbackSeconds,
        now: this.#now,
        sleep: this.#sleep,
        ...(this.#o.pollMs !== undefined ? { pollMs: this.#o.pollMs } : {}),
        onGateway: (gateway) => onProgress({ step: 'checking', deadline, gateway }),
      });
      if (!check.ok) return { ok: false, reason: check.reason, changed: true, ...(await rollback()) };

      pendingHandedOut = true;
      let settled = false;
      const finish = (): void => {
        settled = true;
        this.#busy = false;
      };
      return {
        ok: true,
        gateway: check.gateway,
        pending: {
          keep: async () => {
            if (!settled) finish();
          },
          revert: async () => {
            if (settled) return { restored: false, restoreError: 'the change was already kept' };
            try {
              return await rollback();
            } finally {
              finish();
            }
          },
        },
      };
    } finally {
      if (!pendingHandedOut) this.#busy = false;
    }
  }
}
