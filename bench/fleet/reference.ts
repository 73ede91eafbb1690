// Bench reference: the least a device hub can be. An HTTPS server with the fleet's own certificates that
// accepts the same mTLS WebSockets and parses each message as JSON, with no DB, no state, no signing.
// The fleet's CPU and RSS with the same devices are printed as ratios against this.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';

async function main(): Promise<void> {
  const caDir = process.argv[2];
  if (!caDir) throw new Error('usage: reference.js FLEET_CA_DIR');
  const [cert, key, deviceCa, root] = await Promise.all(['server.pem', 'server.key', 'device-ca.pem', 'root.pem'].map((f) => readFile(join(caDir, f), 'utf8')));
  const server = createServer({ cert, key, ca: [deviceCa!, root!], requestCert: true, rejectUnauthorized: true });
  const wss = new WebSocketServer({ server, path: '/v1/device/ws' });
  let messages = 0;
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      JSON.parse(data.toString());
      messages++;
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    process.send?.({ type: 'listening', port: address.port });
  });
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'stats') process.send?.({ type: 'stats', connected: wss.clients.size, messages });
    if (m.type === 'stop') {
      for (const ws of wss.clients) ws.terminate();
      server.close(() => process.exit(0));
    }
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
