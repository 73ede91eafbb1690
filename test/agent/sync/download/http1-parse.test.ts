// The plain-HTTP client's pure parts: response heads, body framing, chunked decoding, request heads.
import t from 'tap';
import { bodyFraming, ChunkedDecoder, Http1ParseError, keepsAlive, MAX_HEAD_BYTES, parseResponseHead, requestHead, type ResponseHead } from '../../../../agent/src/sync/download/http1-parse.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

t.test('a response head: status, lower-cased headers, repeated headers as arrays, where the body starts', async (t) => {
  const head = parseResponseHead(b('HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nContent-Range: bytes 0-9/100\r\nX-A: 1\r\nx-a:  2 \r\n\r\nBODY'));
  t.ok(head);
  t.match(head, { statusCode: 206, statusMessage: 'Partial Content', minorVersion: 1, headers: { 'content-length': '10', 'content-range': 'bytes 0-9/100', 'x-a': ['1', '2'] } });
  t.equal(head?.length, b('HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nContent-Range: bytes 0-9/100\r\nX-A: 1\r\nx-a:  2 \r\n\r\n').length, 'length ends after the empty line');
  t.match(parseResponseHead(b('HTTP/1.0 200\r\n\r\n')), { statusCode: 200, statusMessage: '', minorVersion: 0 }, 'a status line without reason');
});

t.test('an incomplete head asks for more bytes; an endless one is refused', async (t) => {
  t.equal(parseResponseHead(b('HTTP/1.1 200 OK\r\nContent-Length: 1')), undefined);
  t.equal(parseResponseHead(b('HTTP/1.1 200 OK\r\n\r')), undefined);
  t.throws(() => parseResponseHead(Buffer.alloc(MAX_HEAD_BYTES + 1, 0x61)), Http1ParseError);
  const long = `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`;
  t.throws(() => parseResponseHead(b(long)), { message: /longer than/ });
});

t.test('malformed heads are refused with what was wrong', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['HTTP/2 200 OK\r\n\r\n', /status line/],
    ['ICY 200 OK\r\n\r\n', /status line/],
    ['HTTP/1.1 20 OK\r\n\r\n', /status line/],
    ['HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n', /malformed header/],
    ['HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', /malformed header/],
    ['HTTP/1.1 200 OK\r\n: empty\r\n\r\n', /malformed header/],
    ['HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n', /obs-fold/],
    ['HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n', /bare CR or LF/],
    ['HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n', /control character/],
  ];
  for (const [text, why] of cases) t.throws(() => parseResponseHead(b(text)), { name: 'Http1ParseError', code: 'HPE_PLUGSRV_INVALID', message: why }, JSON.stringify(text));
});

function head(status: number, headers: Record<string, string | string[]>, minorVersion: 0 | 1 = 1): ResponseHead {
  return { statusCode: status, statusMessage: '', minorVersion, headers, length: 0 };
}

t.test('body framing follows RFC 9112 section 6.3', async (t) => {
  t.same(bodyFraming(head(204, { 'content-length': '5' })), { kind: 'none' }, '204 has no body');
  t.same(bodyFraming(head(304, {})), { kind: 'none' });
  t.same(bodyFraming(head(200, { 'content-length': '42' })), { kind: 'length', bytes: 42 });
  t.same(bodyFraming(head(200, { 'content-length': ['42', '42'] })), { kind: 'length', bytes: 42 }, 'repeated equal values');
  t.same(bodyFraming(head(200, { 'content-length': '42, 42' })), { kind: 'length', bytes: 42 }, 'a list of equal values');
  t.same(bodyFraming(head(200, { 'transfer-encoding': 'chunked', 'content-length': '3' })), { kind: 'chunked' }, 'chunked wins over Content-Length');
  t.same(bodyFraming(head(200, { 'transfer-encoding': 'Chunked' })), { kind: 'chunked' });
  t.same(bodyFraming(head(200, {})), { kind: 'close' }, 'no length: until the origin closes');
  t.throws(() => bodyFraming(head(200, { 'content-length': ['1', '2'] })), { message: /conflicting Content-Length/ });
  t.throws(() => bodyFraming(head(200, { 'content-length': '-1' })), { message: /invalid Content-Length/ });
  t.throws(() => bodyFraming(head(200, { 'content-length': '1e3' })), { message: /invalid Content-Length/ });
  t.throws(() => bodyFraming(head(200, { 'transfer-encoding': 'gzip, chunked' })), { message: /not asked for/ });
});

t.test('keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 only when asked; never after a close-delimited body', async (t) => {
  t.equal(keepsAlive(head(200, {}), { kind: 'length', bytes: 1 }), true);
  t.equal(keepsAlive(head(200, { connection: 'Close' }), { kind: 'length', bytes: 1 }), false);
  t.equal(keepsAlive(head(200, {}, 0), { kind: 'length', bytes: 1 }), false);
  t.equal(keepsAlive(head(200, { connection: 'keep-alive' }, 0), { kind: 'length', bytes: 1 }), true);
  t.equal(keepsAlive(head(200, {}), { kind: 'close' }), false);
});

t.test('chunked decoding, fed byte by byte or whole, gives the body and stops at the end', async (t) => {
  const wire = b('5;ext=1\r\nhello\r\n1A\r\n' + 'abcdefghijklmnopqrstuvwxyz' + '\r\n0\r\nTrailer: x\r\n\r\nNEXT');
  const whole = new ChunkedDecoder();
  const r = whole.push(wire);
  t.equal(Buffer.concat(r.data).toString(), 'helloabcdefghijklmnopqrstuvwxyz');
  t.equal(whole.done, true);
  t.equal(wire.subarray(r.used).toString(), 'NEXT', 'what follows the body is left unread');
  const slow = new ChunkedDecoder();
  const out: Buffer[] = [];
  let used = 0;
  for (let i = 0; i < wire.length && !slow.done; i++) {
    const step = slow.push(wire.subarray(i, i + 1));
    out.push(...step.data);
    used += step.used;
  }
  t.equal(Buffer.concat(out).toString(), 'helloabcdefghijklmnopqrstuvwxyz');
  t.equal(used, r.used);
});

t.test('chunked decoding refuses broken framing', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['zz\r\n', /invalid chunk size/],
    ['5\r\nhelloX\r\n', /longer than its announced size/],
    ['5\nhello', /bare LF/],
    [`${'f'.repeat(13)}\r\n`, /invalid chunk size/],
  ];
  for (const [text, why] of bad) t.throws(() => new ChunkedDecoder().push(b(text)), { name: 'Http1ParseError', message: why }, JSON.stringify(text));
  t.throws(() => new ChunkedDecoder().push(b('1'.repeat(5000))), { message: /longer than 4096/ }, 'an endless size line');
});

t.test('request heads: Host first, our headers, nothing that could split the request', async (t) => {
  t.equal(requestHead('/a/b?x=1', '127.0.0.1:8080', { range: 'bytes=0-9', Host: 'evil' }), 'GET /a/b?x=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nrange: bytes=0-9\r\n\r\n');
  t.throws(() => requestHead('/a\r\nX: y', 'h', {}), Http1ParseError);
  t.throws(() => requestHead('http://h/a', 'h', {}), Http1ParseError, 'origin-form only');
  t.throws(() => requestHead('/a', 'h', { range: 'bytes=0-1\r\nX: y' }), Http1ParseError);
  t.throws(() => requestHead('/a', 'h', { 'bad name': 'x' }), Http1ParseError);
});
