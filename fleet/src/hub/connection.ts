// One device's socket: commands go out in seq order, each at most once per socket, and only after the device's hello.
import type { WebSocket } from 'ws';
import type { OutgoingCommand } from '../commands/index.js';

export class DeviceConnection {
  /** Set once the hello's redelivery is done: live commands are sent at once from then on. */
  ready = false;
  /** Cleared at each ping, set by the pong or any message: a socket that stays silent a whole interval is dead. */
  alive = true;
  /** The highest seq the agent said it accepted. */
  ackedSeq = 0;
  closed = false;
  private readonly sent = new Set<string>();
  private outbox: OutgoingCommand[] = [];

  constructor(
    readonly deviceId: string,
    readonly dealerCode: string,
    readonly ws: WebSocket,
    readonly connectedAt: number,
  ) {}

  /** Queues commands; sends them now if the device said hello. Returns the ids actually sent. */
  enqueue(cmds: OutgoingCommand[]): string[] {
    for (const c of cmds) if (!this.sent.has(c.id)) this.outbox.push(c);
    return this.ready ? this.flush() : [];
  }

  /** Sends what is queued, lowest seq first, skipping what the agent already has or this socket already sent. */
  flush(): string[] {
    if (this.closed) return [];
    const out = this.outbox.sort((a, b) => a.seq - b.seq);
    this.outbox = [];
    const ids: string[] = [];
    for (const c of out) {
      if (c.seq <= this.ackedSeq || this.sent.has(c.id)) continue;
      this.ws.send(c.frame);
      this.sent.add(c.id);
      ids.push(c.id);
    }
    return ids;
  }
}
