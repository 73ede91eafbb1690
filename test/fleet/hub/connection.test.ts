// One device's socket: nothing before hello, seq order, each command at most once per socket, nothing the agent has.
import t from 'tap';
import type { WebSocket } from 'ws';
import { DeviceConnection } from '../../../fleet/src/hub/index.js';

function fakeWs(): { ws: WebSocket; sent: string[] } {
  const sent: string[] = [];
  return { ws: { send: (f: string) => sent.push(f) } as unknown as WebSocket, sent };
}
const cmd = (seq: number): { id: string; seq: number; frame: string } => ({ id: `c${seq}`, seq, frame: `f${seq}` });

t.test('held until hello, then sent lowest seq first; live ones at once', async (t) => {
  const { ws, sent } = fakeWs();
  const c = new DeviceConnection('dev_x', '12345678', ws, 0);
  t.same(c.enqueue([cmd(7)]), [], 'a live command before hello waits');
  // The hello's DB read returns older ones, and the live one again.
  c.ackedSeq = 4;
  c.enqueue([cmd(6), cmd(5), cmd(7), cmd(3)]);
  c.ready = true;
  t.same(c.flush(), ['c5', 'c6', 'c7'], 'seq 3 is skipped: the agent accepted up to 4; 7 once');
  t.same(sent, ['f5', 'f6', 'f7']);
  t.same(c.enqueue([cmd(8)]), ['c8'], 'after hello, at once');
  t.same(c.enqueue([cmd(8), cmd(6)]), [], 'never twice on one socket');
  c.closed = true;
  t.same(c.enqueue([cmd(9)]), [], 'nothing on a closed socket');
  t.same(sent, ['f5', 'f6', 'f7', 'f8']);
});
