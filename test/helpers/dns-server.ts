// Test helper: a small authoritative DNS server on 127.0.0.1 (UDP) that answers each name as told: A records, NXDOMAIN, SERVFAIL, REFUSED or silence.
import { createSocket, type Socket } from 'node:dgram';

export type DnsBehaviour = { a: string[] } | 'nxdomain' | 'servfail' | 'refused' | 'drop';

export interface DnsServer {
  readonly address: string;
  readonly queries: string[];
  close(): Promise<void>;
}

const RCODE = { nxdomain: 3, servfail: 2, refused: 5 } as const;

/** Reads the question name starting at offset 12; returns the name and the offset after QTYPE/QCLASS. */
function readQuestion(msg: Buffer): { name: string; end: number } {
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i] as number;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('ascii'));
    i += len + 1;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 5 };
}

export function answer(msg: Buffer, behaviour: Exclude<DnsBehaviour, 'drop'>): Buffer {
  const { end } = readQuestion(msg);
  const qtype = msg.readUInt16BE(end - 4);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(msg.readUInt16BE(0), 0);
  const rd = (msg[2] as number) & 0x01;
  const rcode = typeof behaviour === 'string' ? RCODE[behaviour] : 0;
  header.writeUInt16BE(0x8000 | 0x0400 | (rd << 8) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  const records = typeof behaviour === 'object' && qtype === 1 ? behaviour.a : [];
  header.writeUInt16BE(records.length, 6);
  const answers = records.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(1, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((o, k) => rr.writeUInt8(Number(o), 12 + k));
    return rr;
  });
  return Buffer.concat([header, msg.subarray(12, end), ...answers]);
}

/** Names not in `zone` get NXDOMAIN. */
export function startDnsServer(zone: Record<string, DnsBehaviour>): Promise<DnsServer> {
  const socket: Socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 17) return;
    const { name } = readQuestion(msg);
    queries.push(name);
    const behaviour = zone[name] ?? 'nxdomain';
    if (behaviour === 'drop') return;
    socket.send(answer(msg, behaviour), rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      resolve({ address: `127.0.0.1:${port}`, queries, close: () => new Promise((r) => socket.close(() => r())) });
    });
  });
}
