// Encodes log entries in systemd-journald's native protocol and sends them as datagrams to its socket.
import { createRequire } from 'node:module';

export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

/** journald field names: uppercase ASCII letters, digits and underscores, not starting with an underscore. */
export function journalFieldName(key: string): string {
  const name = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, '_')
    .replace(/^_+/, '');
  return /^[0-9]/.test(name) ? `F_${name}` : name || 'FIELD';
}

/**
 * Serialises fields as one native-protocol datagram: `KEY=value\n` for single-line values, and
 * `KEY\n<64-bit LE length><bytes>\n` for values that contain a newline.
 */
export function encodeJournalEntry(fields: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(fields)) {
    const name = journalFieldName(key);
    const bytes = Buffer.from(value, 'utf8');
    if (value.includes('\n')) {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(bytes.length));
      parts.push(Buffer.from(`${name}\n`), len, bytes, Buffer.from('\n'));
    } else {
      parts.push(Buffer.from(`${name}=`), bytes, Buffer.from('\n'));
    }
  }
  return Buffer.concat(parts);
}

export interface DatagramSender {
  send(buf: Buffer): void;
  close(): void;
}

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  close(): void;
}

/**
 * Opens a unix datagram sender to `socketPath` through the optional native `unix-dgram` addon
 * (Node has no AF_UNIX datagram support). Returns undefined when the addon is not available.
 */
export function openUnixDatagramSender(socketPath: string, onError: (err: Error) => void): DatagramSender | undefined {
  let mod: { createSocket(type: 'unix_dgram'): UnixDgramSocket };
  try {
    mod = createRequire(import.meta.url)('unix-dgram') as typeof mod;
  } catch {
    return undefined;
  }
  const sock = mod.createSocket('unix_dgram');
  sock.on('error', onError);
  return {
    send(buf) {
      sock.send(buf, 0, buf.length, socketPath, (err) => {
        if (err) onError(err);
      });
    },
    close() {
      sock.close();
    },
  };
}
