// Enrollment is rate-limited per client address: a burst, then 429 E_RATE_LIMITED with Retry-After.
import t from 'tap';
import { EnrollErrorCode } from '../../../lib/fleet/protocol.js';
import { tempDir } from '../../helpers/agent-process.js';
import { enrollDevice } from '../../helpers/fleet-device.js';
import { startFleet } from '../../helpers/fleet-process.js';

const dataDir = await tempDir(t, 'plugsrv-fleet-rate-');
const fleet = await startFleet(dataDir, [], { PLUGSRV_FLEET_ENROLL_RATE_BURST: '3', PLUGSRV_FLEET_ENROLL_RATE_PER_MINUTE: '1' });
t.teardown(() => fleet.kill());

t.test('the fourth attempt within the burst is refused with 429', async (t) => {
  const unknown = `pbt_bbbbbbbbbbbbbbbb_${'B'.repeat(43)}`;
  for (let i = 0; i < 3; i++) {
    const r = (await enrollDevice(fleet, unknown, `SN-${i}`)).res;
    t.equal(r.status, 401, `attempt ${i + 1} is judged on its token`);
  }
  const limited = (await enrollDevice(fleet, unknown, 'SN-3')).res;
  t.equal(limited.status, 429);
  t.equal(limited.json.code, EnrollErrorCode.RATE_LIMITED);
  t.ok(Number(limited.headers['retry-after']) >= 1, `Retry-After: ${limited.headers['retry-after']}`);
});
