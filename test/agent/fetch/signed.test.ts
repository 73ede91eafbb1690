// The listing-against-signed-catalog check of `plugsrv fetch`: sha256, length and file name must all match a signed target.
import t from 'tap';
import { signedRefusal, signedRefusals, targetsOf, type ServerPackage, type SignedTarget } from '../../../agent/src/fetch/index.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const pkg = (over: Partial<ServerPackage> = {}): ServerPackage => ({ id: A, name: 'EU.bin', size: 100, kind: 'map', headUnit: 'IVI', models: ['XBA'], version: '1', ...over });
const signed: SignedTarget[] = [
  { path: 'maps/eu/EU.bin', length: 100, sha256: A },
  { path: 'soft/IVI.bin', length: 7, sha256: B },
];

t.test('a package signed as listed passes', async (t) => {
  t.equal(signedRefusal(pkg(), signed), undefined);
  t.same(signedRefusals([pkg(), pkg({ id: B, name: 'IVI.bin', size: 7 })], signed), []);
});

t.test('a listed sha256 the catalog does not sign is unsigned', async (t) => {
  const r = signedRefusal(pkg({ id: 'c'.repeat(64), name: 'OTHER.bin' }), signed);
  t.match(r, { code: 'E_TUF_UNSIGNED_TARGET', reason: /no target of the signed catalog has that sha256/ });
});

t.test('a signed name listed with another sha256 is a mismatch naming both', async (t) => {
  const r = signedRefusal(pkg({ id: 'c'.repeat(64) }), signed);
  t.match(r, { code: 'E_TUF_TARGET_MISMATCH', reason: /lists EU\.bin as 100 bytes with sha256 cccccccccccc.*signed catalog has maps\/eu\/EU\.bin as 100 bytes with sha256 aaaaaaaaaaaa/ });
});

t.test('the right sha256 with a wrong length or a wrong name is a mismatch', async (t) => {
  t.match(signedRefusal(pkg({ size: 101 }), signed), { code: 'E_TUF_TARGET_MISMATCH', reason: /signed catalog has that sha256 as maps\/eu\/EU\.bin, 100 bytes/ });
  t.match(signedRefusal(pkg({ name: 'US.bin' }), signed), { code: 'E_TUF_TARGET_MISMATCH' });
  t.equal(signedRefusals([pkg(), pkg({ size: 1 })], signed).length, 1, 'only the bad one');
});

t.test('targetsOf reads signed.targets, lowercases hashes and skips entries without a length', async (t) => {
  const doc = { signed: { targets: { 'a/x.bin': { length: 3, hashes: { sha256: A.toUpperCase() } }, 'y.bin': { hashes: { sha256: B } }, 'z.bin': { length: 1, hashes: {} } } } };
  t.same(targetsOf(doc), [
    { path: 'a/x.bin', length: 3, sha256: A },
    { path: 'z.bin', length: 1, sha256: undefined },
  ]);
  t.same(targetsOf({}), []);
  t.same(targetsOf(null), []);
});
