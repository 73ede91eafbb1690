// What an enrollment attempt with a token amounts to (pure): the order of refusals and their codes; token lifetimes.
import t from 'tap';
import { EnrollErrorCode } from '../../../lib/fleet/protocol.js';
import { checkToken, tokenExpiry, type TokenRecord } from '../../../fleet/src/enroll/index.js';

const now = 1_750_000_000_000;
const fresh: TokenRecord = { dealerCode: '12345678', serial: null, expiresAt: now + 3_600_000, usedAt: null };

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

t.test('refusals in order: unknown, used, expired, serial', async (t) => {
  t.equal(codeOf(() => checkToken(undefined, 'SN', now)), EnrollErrorCode.UNKNOWN_TOKEN);
  t.equal(codeOf(() => checkToken({ ...fresh, usedAt: now - 1, expiresAt: now - 1 }, 'SN', now)), EnrollErrorCode.USED_TOKEN, 'used wins over expired');
  t.equal(codeOf(() => checkToken({ ...fresh, expiresAt: now }, 'SN', now)), EnrollErrorCode.EXPIRED_TOKEN, 'expiry is exclusive');
  t.equal(codeOf(() => checkToken({ ...fresh, expiresAt: now - 1, serial: 'OTHER' }, 'SN', now)), EnrollErrorCode.EXPIRED_TOKEN, 'expired wins over serial');
  t.equal(codeOf(() => checkToken({ ...fresh, serial: 'SN-1' }, 'SN-2', now)), EnrollErrorCode.SERIAL_MISMATCH);
  t.equal(codeOf(() => checkToken({ ...fresh, serial: 'SN-1' }, 'sn-1', now)), EnrollErrorCode.SERIAL_MISMATCH, 'serials compare exactly');
  t.equal(codeOf(() => checkToken({ ...fresh, serial: 'SN-1' }, 'SN-1', now)), undefined);
  t.equal(codeOf(() => checkToken(fresh, 'ANY', now)), undefined, 'an unbound token takes any serial');
});

t.test('messages say what to do', async (t) => {
  t.throws(() => checkToken({ ...fresh, serial: 'SN-1' }, 'SN-2', now), { message: /serial SN-1, not SN-2; use the token printed for this unit/ });
  t.throws(() => checkToken({ ...fresh, usedAt: now - 1 }, 'SN', now), { message: /Ask the fleet operator for a new token/ });
});

t.test('lifetimes: default, requested, bounded', async (t) => {
  const d = { defaultHours: 72, maxDays: 90 };
  t.equal(tokenExpiry(now, undefined, d), now + 72 * 3_600_000);
  t.equal(tokenExpiry(now, 0.5, d), now + 1_800_000);
  t.equal(tokenExpiry(now, 90 * 24, d), now + 90 * 86_400_000);
  for (const bad of [0, -1, 90 * 24 + 1, Number.NaN]) t.throws(() => tokenExpiry(now, bad, d), { code: 'E_BAD_REQUEST' }, String(bad));
});
