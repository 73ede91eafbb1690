// TPM self-test: the full TPM2_SelfTest, then TPM2_GetTestResult until the TPM says it finished.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { systemErrorCode } from '../../../../lib/errors.js';
import { measure } from '../evaluate.js';
import { sleep } from '../proc.js';
import { absent, type StepDef, type StepOutcome } from '../step.js';
import { getTestResultCommand, parseGetTestResult, rcName, responseCode, selfTestCommand, TPM_RC } from '../tpm-proto.js';

const RESPONSE_TIMEOUT_MS = 30_000;

/** One command, one response, through the kernel's resource manager device. */
async function transmit(device: string, command: Buffer, signal: AbortSignal): Promise<Buffer> {
  const fh = await open(device, 'r+');
  try {
    await fh.write(command);
    const buf = Buffer.alloc(4096);
    const stop = new AbortController();
    const timeout = sleep(RESPONSE_TIMEOUT_MS, AbortSignal.any([signal, stop.signal])).then(() => {
      if (stop.signal.aborted) return undefined;
      throw new Error(signal.aborted ? 'stopped' : `no response within ${RESPONSE_TIMEOUT_MS / 1000} s`);
    });
    // The timer is stopped only once the race is settled: stopping it from the read's own finally let the timer's
    // "stopped" branch win the race by a tick (seen as "no response" from a TPM that had answered).
    const read = fh.read(buf, 0, buf.length, null);
    const result = await Promise.race([read, timeout]).finally(() => stop.abort());
    if (!result) throw new Error('no response');
    const { bytesRead } = result;
    return buf.subarray(0, bytesRead);
  } finally {
    // Not awaited: a TPM that never answers leaves a read pending, and close() would wait for it.
    void fh.close().catch(() => undefined);
  }
}

export const tpmStep: StepDef = {
  id: 'tpm',
  title: 'TPM self-test',
  required: (p) => p.burnin.tpm.required,
  expectedSeconds: () => 2,
  async run(ctx): Promise<StepOutcome> {
    const required = ctx.profile.burnin.tpm.required;
    const tpm = ctx.inventory.tpm;
    if (!tpm) return absent(required, 'no TPM device (/sys/class/tpm is empty)', 'Turn "TPM 2.0 Security On" in BIOS setup (F2) > Security, save and reboot; if it stays missing the board is faulty.');
    if (tpm.versionMajor !== 2) {
      return { status: 'fail', message: `${tpm.device} is ${tpm.versionMajor === 1 ? 'a TPM 1.2' : 'of unknown version'}; TPM 2.0 is needed: switch it in BIOS setup > Security.`, measures: [measure({ id: 'version', label: 'TPM version', value: tpm.versionMajor, threshold: { equals: 2 } })] };
    }
    const device = join(ctx.devDir, tpm.device.replace(/^tpm/, 'tpmrm'));
    try {
      const selfTest = responseCode(await transmit(device, selfTestCommand(true), ctx.signal));
      let result = parseGetTestResult(await transmit(device, getTestResultCommand(), ctx.signal));
      const until = ctx.now() + 20_000;
      while (result.testResult === TPM_RC.TESTING && ctx.now() < until && !ctx.signal.aborted) {
        await sleep(250, ctx.signal);
        result = parseGetTestResult(await transmit(device, getTestResultCommand(), ctx.signal));
      }
      const measures = [
        measure({ id: 'self-test', label: 'TPM2_SelfTest(full)', value: selfTest === null ? null : rcName(selfTest), threshold: { equals: rcName(TPM_RC.SUCCESS) }, required: true }),
        measure({ id: 'test-result', label: 'TPM2_GetTestResult', value: result.testResult === null ? null : rcName(result.testResult), threshold: { equals: rcName(TPM_RC.SUCCESS) }, required: true }),
      ];
      const ok = measures.every((m) => m.status === 'pass');
      return { measures, chart: null, message: ok ? `${device}: full self-test passed.` : `The TPM self-test did not pass (${measures.map((m) => `${m.label} ${m.value ?? 'n/a'}`).join(', ')}): clear the TPM in BIOS setup > Security and run again; if it still fails, the board is faulty.` };
    } catch (err) {
      const code = systemErrorCode(err);
      const hint = code === 'EACCES' || code === 'EPERM' ? ': run the burn-in as root (or in the tss group)' : code === 'ENOENT' ? ': the kernel created no resource-manager device (tpm_crb/tpm_tis driver?)' : '';
      return { status: 'fail', message: `cannot talk to the TPM through ${device} (${code ?? (err as Error).message})${hint}.` };
    }
  },
};
