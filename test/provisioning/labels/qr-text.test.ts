// The label QR code's text: the exact version-1 format, round trips through awkward values, and refusals that say why.
import t from 'tap';
import { LABEL_QR_TAG, labelQrText, parseLabelQrText } from '../../../provisioning/src/labels/index.js';
import { LineError } from '../../../provisioning/src/errors.js';

t.test('the usual ids are written as themselves, in the documented format', async (t) => {
  const text = labelQrText({ unitId: '0192f3c4-7b1e-7cc2-9a51-3f0e2d4b8a10', serial: 'PSV-2026-000123' });
  t.equal(text, 'PLUGSRV1;U:0192f3c4-7b1e-7cc2-9a51-3f0e2d4b8a10;S:PSV-2026-000123');
  t.equal(LABEL_QR_TAG, 'PLUGSRV1');
  t.same(parseLabelQrText(text), { unitId: '0192f3c4-7b1e-7cc2-9a51-3f0e2d4b8a10', serial: 'PSV-2026-000123' });
  t.equal(labelQrText({ unitId: 'u_1.a', serial: 'SN.9_x' }), 'PLUGSRV1;U:u_1.a;S:SN.9_x');
});

t.test('values with the separators, percent signs, spaces or non-ASCII characters round-trip', async (t) => {
  const cases = [
    { unitId: 'a;b', serial: 'S:1' },
    { unitId: 'U:x;S:y', serial: ';;;' },
    { unitId: '100%', serial: '%41' },
    { unitId: 'with space', serial: 'tab\there' },
    { unitId: 'éàç', serial: '東京-🚗' },
    { unitId: 'PLUGSRV1', serial: 'PLUGSRV1;U:a;S:b' },
  ];
  for (const c of cases) {
    const text = labelQrText(c);
    t.equal(text.split(';').length, 3, `${JSON.stringify(c)}: exactly three fields in ${text}`);
    t.match(text, /^[\x21-\x7e]+$/, 'printable ASCII only (no space, nothing a scanner keyboard could mangle)');
    t.same(parseLabelQrText(text), c, `${JSON.stringify(c)} round-trips`);
  }
});

t.test('what a keyboard-wedge scanner adds around the code is ignored', async (t) => {
  t.same(parseLabelQrText('  PLUGSRV1;U:u1;S:s1\r\n'), { unitId: 'u1', serial: 's1' });
});

t.test('anything else is refused with E_USAGE and the reason', async (t) => {
  const refused: [string, RegExp][] = [
    ['', /does not start with PLUGSRV1;/],
    ['PSV-2026-000123', /does not start with PLUGSRV1;/],
    ['plugsrv1;U:a;S:b', /does not start with PLUGSRV1;/],
    ['PLUGSRV2;U:a;S:b;X:c', /format PLUGSRV2 is not known/],
    ['PLUGSRV1;U:a', /expected 3 fields/],
    ['PLUGSRV1;U:a;S:b;', /expected 3 fields separated by ";", found 4/],
    ['PLUGSRV1;S:b;U:a', /expected the unit id as "U:\.\.\."/],
    ['PLUGSRV1;U:a;X:b', /expected the serial as "S:\.\.\."/],
    ['PLUGSRV1;U:;S:b', /the unit id is empty/],
    ['PLUGSRV1;U:a;S:%20', /the serial is empty/],
    ['PLUGSRV1;U:%E0%A4;S:b', /the unit id is badly percent-encoded/],
    ['PLUGSRV1;U:a;S:%zz', /the serial is badly percent-encoded/],
  ];
  for (const [text, why] of refused) {
    t.throws(() => parseLabelQrText(text), { name: 'LineError', code: 'E_USAGE', message: why }, JSON.stringify(text));
  }
  const err = (() => {
    try {
      parseLabelQrText('x'.repeat(500));
    } catch (e) {
      return e as LineError;
    }
    return undefined;
  })();
  t.ok(err && err.message.length < 300, 'a long scan is shortened in the message');
  t.match(err?.message, /Scan the QR code on the unit's box label/);
});

t.test('a label cannot be made for an empty unit id or serial', async (t) => {
  t.throws(() => labelQrText({ unitId: '', serial: 's' }), { code: 'E_INTERNAL', message: /unit id/ });
  t.throws(() => labelQrText({ unitId: 'u', serial: '  ' }), { code: 'E_INTERNAL', message: /serial/ });
});
