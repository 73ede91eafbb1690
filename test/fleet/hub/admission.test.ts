// Who may open the device socket (pure): our device CA's certificate, known, unrevoked, device in service.
import t from 'tap';
import { SocketClose } from '../../../lib/fleet/protocol.js';
import { checkPeer, decideAdmission, type PeerCertificate } from '../../../fleet/src/hub/index.js';
import type { Admission } from '../../../fleet/src/devices/index.js';

const CA = 'AA:BB';
const peer: PeerCertificate = { authorized: true, serial: '4f01', commonName: 'dev_x', issuerFingerprint: CA };
const found: Admission = { deviceId: 'dev_x', certRevokedAt: null, status: 'active', dealerCode: '12345678', policyVersion: null };

t.test('before the DB: a verified chain from our device CA', async (t) => {
  t.same(checkPeer(peer, CA), { serial: '4f01' });
  t.match(checkPeer({ ...peer, authorized: false }, CA), { kind: 'refuse', status: 401, code: 'E_CERT_REQUIRED' });
  t.match(checkPeer({ authorized: false }, CA), { kind: 'refuse', status: 401 }, 'no certificate');
  t.match(checkPeer({ ...peer, issuerFingerprint: 'CC:DD' }, CA), { kind: 'refuse', message: /not issued by the fleet's device CA/ }, 'signed by the root itself');
  t.match(checkPeer({ ...peer, serial: undefined }, CA), { kind: 'refuse' });
});

t.test('with the DB: status and revocation decide the close code', async (t) => {
  t.match(decideAdmission(peer, found), { kind: 'accept', deviceId: 'dev_x', dealerCode: '12345678' });
  t.match(decideAdmission(peer, undefined), { kind: 'close', code: SocketClose.REVOKED });
  t.match(decideAdmission(peer, { ...found, status: 'retired', certRevokedAt: 1 }), { kind: 'close', code: SocketClose.RETIRED }, 'retired wins over revoked');
  t.match(decideAdmission(peer, { ...found, certRevokedAt: 1 }), { kind: 'close', code: SocketClose.REVOKED });
  t.match(decideAdmission(peer, { ...found, status: 'wiped' }), { kind: 'close', code: SocketClose.REVOKED });
  t.match(decideAdmission(peer, { ...found, status: 'retiring' }), { kind: 'accept' }, 'a retiring device still connects to get its retire command');
  t.match(decideAdmission({ ...peer, commonName: 'dev_y' }, found), { kind: 'close', code: SocketClose.REVOKED });
});
