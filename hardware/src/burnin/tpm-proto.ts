// The two TPM 2.0 commands the burn-in needs, encoded and decoded by hand (TPM 2.0 Library, Part 3): TPM2_SelfTest
// (full) and TPM2_GetTestResult. No tpm2-tools needed; the bytes go through /dev/tpmrm0.

const TPM_ST_NO_SESSIONS = 0x8001;
const TPM_CC_SELF_TEST = 0x00000143;
const TPM_CC_GET_TEST_RESULT = 0x0000017c;

export const TPM_RC = {
  SUCCESS: 0x000,
  /** TPM_RC_FAILURE: the TPM is in failure mode. */
  FAILURE: 0x101,
  /** TPM_RC_NEEDS_TEST. */
  NEEDS_TEST: 0x153,
  /** TPM_RC_TESTING: the self-test is still running (a warning code). */
  TESTING: 0x90a,
} as const;

/** TPM2_SelfTest(fullTest = YES). */
export function selfTestCommand(fullTest = true): Buffer {
  const b = Buffer.alloc(11);
  b.writeUInt16BE(TPM_ST_NO_SESSIONS, 0);
  b.writeUInt32BE(11, 2);
  b.writeUInt32BE(TPM_CC_SELF_TEST, 6);
  b.writeUInt8(fullTest ? 1 : 0, 10);
  return b;
}

export function getTestResultCommand(): Buffer {
  const b = Buffer.alloc(10);
  b.writeUInt16BE(TPM_ST_NO_SESSIONS, 0);
  b.writeUInt32BE(10, 2);
  b.writeUInt32BE(TPM_CC_GET_TEST_RESULT, 6);
  return b;
}

/** The response header's code, or null for a malformed response. */
export function responseCode(resp: Buffer): number | null {
  if (resp.length < 10) return null;
  const size = resp.readUInt32BE(2);
  if (size !== resp.length) return null;
  return resp.readUInt32BE(6);
}

/** TPM2_GetTestResult's response: the command's code, then outData (TPM2B_MAX_BUFFER) and testResult (TPM_RC). */
export function parseGetTestResult(resp: Buffer): { rc: number | null; testResult: number | null } {
  const rc = responseCode(resp);
  if (rc !== TPM_RC.SUCCESS) return { rc, testResult: null };
  if (resp.length < 12) return { rc, testResult: null };
  const outSize = resp.readUInt16BE(10);
  const at = 12 + outSize;
  if (resp.length < at + 4) return { rc, testResult: null };
  return { rc, testResult: resp.readUInt32BE(at) };
}

export function rcName(rc: number | null): string {
  if (rc === null) return 'malformed response';
  const name = Object.entries(TPM_RC).find(([, v]) => v === rc)?.[0];
  return `0x${rc.toString(16).padStart(3, '0')}${name ? ` (TPM_RC_${name})` : ''}`;
}
