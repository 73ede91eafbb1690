// fetchRange's dispatch handler against a dispatcher that behaves as undici's parser does on resume (an empty chunk first).
import t from 'tap';
import type { Dispatcher } from 'undici';
import { fetchRange } from '../../../../agent/src/sync/download/fetch-range.js';

/**
 * A dispatcher answering 206 with `body` in the given chunks. Like undici's HTTP/1.1 parser, a resume() runs the
 * parser over whatever the socket holds, and an empty read hands the handler a zero-length chunk.
 */
function dispatcher(chunks: Buffer[], total: number): { d: Dispatcher; resumes: () => number } {
  let resumes = 0;
  const d = {
    dispatch(_opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      let paused = false;
      let next = 0;
      const controller = {
        aborted: false,
        paused: false,
        reason: null,
        abort(): void {
          this.aborted = true;
        },
        pause(): void {
          paused = true;
        },
        resume(): void {
          resumes++;
          if (resumes > 100) throw new Error('resumed more than 100 times: a resume loop');
          paused = false;
          handler.onResponseData?.(controller as unknown as Dispatcher.DispatchController, Buffer.alloc(0));
          pump();
        },
      };
      const c = controller as unknown as Dispatcher.DispatchController;
      const pump = (): void => {
        while (!paused && next < chunks.length) handler.onResponseData?.(c, chunks[next++] as Buffer);
        if (!paused && next === chunks.length) {
          next++;
          handler.onResponseEnd?.(c, {});
        }
      };
      queueMicrotask(() => {
        handler.onRequestStart?.(c, {});
        const length = chunks.reduce((n, b) => n + b.length, 0);
        handler.onResponseStart?.(c, 206, { 'content-length': String(length), 'content-range': `bytes 0-${length - 1}/${total}` }, 'Partial Content');
        pump();
      });
      return true;
    },
  };
  return { d: d as unknown as Dispatcher, resumes: () => resumes };
}

t.test('a sink that asks to wait pauses the response; the empty chunk of the resume is not taken as data', async (t) => {
  const chunks = [Buffer.from('abcd'), Buffer.from('efgh'), Buffer.from('ij')];
  const { d, resumes } = dispatcher(chunks, 10);
  const seen: Buffer[] = [];
  const signal = new AbortController().signal;
  await fetchRange(
    { url: new URL('http://origin.invalid/p.bin'), size: 10, span: { start: 0, end: 10 } },
    { dispatcher: d, headersTimeoutMs: 1000, bodyTimeoutMs: 1000, signal, clock: () => 0 },
    {
      onValidator() {},
      // Every chunk makes the caller wait a tick, as a full write queue or a bandwidth cap does.
      write(chunk) {
        seen.push(chunk);
        return new Promise((r) => setImmediate(r));
      },
    },
  );
  t.same(Buffer.concat(seen).toString(), 'abcdefghij', 'every byte once, in order');
  t.ok(seen.every((c) => c.length > 0), 'no empty chunk reached the sink');
  t.equal(resumes(), 3, 'one resume per wait, no loop');
});
