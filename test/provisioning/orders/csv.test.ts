// The orders CSV: valid rows, every bad row named with its line number, the whole file refused on any error.
import t from 'tap';
import { parseOrdersCsv, staticNetworkProblems } from '../../../provisioning/src/orders/index.js';

const HEADER = 'order_ref,dealer_code,site,quantity,contact_email,delivery_address,lang,network,address,gateway,dns';

t.test('valid rows: quoting, semicolons, BOM, static network, defaults', async (t) => {
  const text = `\ufeff${HEADER}\n` + 'PO-2026-001,12345678,"Garage du Centre, Lyon",2,it@garage.fr,"12 rue X, 69001 Lyon",,,,,\n' + 'PO-2026-002,87654321,Autohaus Süd,1,a.b@autohaus.de,Hauptstr. 1 München,en,static,192.168.10.20/24,192.168.10.1,192.168.10.1 9.9.9.9\n';
  const rows = parseOrdersCsv(text, 'orders.csv');
  t.equal(rows.length, 2);
  t.match(rows[0], { ref: 'PO-2026-001', dealerCode: '12345678', site: 'Garage du Centre, Lyon', quantity: 2, lang: 'fr', network: { mode: 'dhcp' }, line: 2 });
  t.match(rows[1], { lang: 'en', network: { mode: 'static', address: '192.168.10.20', prefix: 24, gateway: '192.168.10.1', dns: ['192.168.10.1', '9.9.9.9'] }, line: 3 });
  t.not(rows[0]?.rowHash, rows[1]?.rowHash);
  const semi = parseOrdersCsv('order_ref;dealer_code;site;quantity;contact_email;delivery_address\nA1;12345678;Site;5;x@y.fr;1 rue de la Paix\n');
  t.equal(semi[0]?.quantity, 5);
  t.equal(parseOrdersCsv(text)[0]?.rowHash, rows[0]?.rowHash, 'the row hash is stable');
});

t.test('every bad row is reported with its line, and nothing is returned', async (t) => {
  const text = [
    HEADER,
    'A1,1234567,Site,1,x@y.fr,1 rue X,,,,,', // 7-digit dealer code (line 2)
    'A2,12345678,Site,6,x@y.fr,1 rue X,,,,,', // quantity 6 (line 3)
    'A3,12345678,Site,1,not-an-email,1 rue X,,,,,', // e-mail (line 4)
    'A4,12345678,Site,1,x@y.fr,1 rue X,de,,,,', // lang (line 5)
    'A5,12345678,Site,1,x@y.fr,1 rue X,,static,192.168.1.20/24,10.0.0.1,192.168.1.1', // gateway outside (line 6)
    'A6,12345678,Site,1,x@y.fr,1 rue X,,static,192.168.1.20,192.168.1.1,192.168.1.1', // no prefix (line 7)
    'A7,12345678,Site,1,x@y.fr,1 rue X,,dhcp,192.168.1.20/24,,', // address with dhcp (line 8)
    'A1,12345678,Site,1,x@y.fr,1 rue X,,,,,', // duplicate ref of line 2 (which was bad) -> only if line 2 had been good
    'A9,12345678,Site,1,x@y.fr,1 rue X,,,,,',
    'A9,12345678,Site,2,x@y.fr,1 rue X,,,,,', // duplicate ref (line 11)
  ].join('\n');
  const err = (() => {
    try {
      parseOrdersCsv(text, 'orders.csv');
    } catch (e) {
      return e as Error & { code: string };
    }
    return undefined;
  })();
  t.equal(err?.code, 'E_ORDERS_CSV');
  const msg = err?.message ?? '';
  t.match(msg, /nothing was imported/);
  t.match(msg, /line 2: dealer_code "1234567" must be the dealer's entity code of exactly 8 digits/);
  t.match(msg, /line 3: quantity "6" must be a whole number from 1 to 5/);
  t.match(msg, /line 4: contact_email "not-an-email"/);
  t.match(msg, /line 5: lang "de" must be fr or en/);
  t.match(msg, /line 6: network: the gateway 10\.0\.0\.1 is not in 192\.168\.1\.20\/24/);
  t.match(msg, /line 7: network: address "192\.168\.1\.20" needs its prefix/);
  t.match(msg, /line 8: address is given but network is dhcp/);
  t.match(msg, /line 11: order_ref A9 is already on line 10/);
});

t.test('header problems and unreadable files', async (t) => {
  t.throws(() => parseOrdersCsv('order_ref,dealer,site,quantity,contact_email,delivery_address\nA,1,2,3,4,5\n', 'f.csv'), { code: 'E_ORDERS_CSV', message: /f\.csv, line 1 \(header\): missing column\(s\) dealer_code; unknown column\(s\) dealer/ });
  t.throws(() => parseOrdersCsv(`${HEADER}\n`), { code: 'E_ORDERS_CSV', message: /no order row/ });
  t.throws(() => parseOrdersCsv(`${HEADER}\nA,"unterminated,1\n`), { code: 'E_ORDERS_CSV', message: /not a readable CSV/ });
  t.throws(() => parseOrdersCsv(`${HEADER}\nA1,12345678,Site,1,x@y.fr,1 rue X\n`), { code: 'E_ORDERS_CSV', message: /not a readable CSV/ }, 'a row with fewer columns');
});

t.test('static network checks (pure)', async (t) => {
  t.same(staticNetworkProblems('10.1.2.3', 16, '10.1.0.1', ['10.1.0.1']), []);
  t.match(staticNetworkProblems('10.1.0.0', 16, '10.1.0.1', ['10.1.0.1']).join(), /network or broadcast/);
  t.match(staticNetworkProblems('10.1.2.3', 31, '10.1.2.2', ['1.1.1.1']).join(), /prefix \/31 must be 8 to 30/);
  t.match(staticNetworkProblems('10.1.2.3', 24, '10.1.2.3', ['1.1.1.1']).join(), /same/);
  t.match(staticNetworkProblems('10.1.2.3', 24, '10.1.2.1', []).join(), /at least one dns/);
  t.match(staticNetworkProblems('300.1.2.3', 24, '10.1.2.1', ['x']).join(), /not an IPv4 address.*dns "x"/);
});
