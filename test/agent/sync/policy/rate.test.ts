// Real time: ~3 s of data piped through a 2 MB/s bucket comes out within 10% of the cap.
import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { throttle, TokenBucket } from '../../../../agent/src/sync/policy/index.js';

const RATE = 2_000_000;
const TOTAL = 3 * RATE;
const CHUNK = 64 * 1024;

function* chunks(): Generator<Buffer> {
  for (let sent = 0; sent < TOTAL; sent += CHUNK) yield Buffer.alloc(Math.min(CHUNK, TOTAL - sent), 0x5a);
}

t.test('a piped transfer holds the cap', async (t) => {
  const bucket = new TokenBucket({ rateBytesPerSec: RATE });
  let received = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback): void {
      received += chunk.length;
      callback();
    },
  });
  const started = performance.now();
  await pipeline(Readable.from(chunks()), throttle(bucket), sink);
  const seconds = (performance.now() - started) / 1000;
  const rate = received / seconds;
  t.equal(received, TOTAL, 'every byte arrives');
  t.ok(Math.abs(rate - RATE) <= RATE * 0.1, `measured ${(rate / 1e6).toFixed(3)} MB/s over ${seconds.toFixed(2)} s, cap 2 MB/s`);
  t.comment(`measured ${(rate / 1e6).toFixed(3)} MB/s over ${seconds.toFixed(2)} s (burst ${bucket.burstBytes} bytes)`);
});

t.test('an abort stops the pipe', async (t) => {
  const bucket = new TokenBucket({ rateBytesPerSec: RATE });
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('window closed')), 200);
  const sink = new Writable({ write: (_chunk: Buffer, _encoding, callback) => callback() });
  await t.rejects(pipeline(Readable.from(chunks()), throttle(bucket, ac.signal), sink), { message: 'window closed' });
});
