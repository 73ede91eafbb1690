// The enrollment screen's default reader: <dataDir>/identity/device.json or "not enrolled".
import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { identityFileReader, parseIdentity } from '../../../agent/src/console/index.js';
import { tempDir } from '../../helpers/agent-process.js';

t.test('no identity file: not enrolled; a file: its id', async (t) => {
  const dataDir = await tempDir(t);
  const read = identityFileReader(dataDir);
  t.same(await read(), { state: 'not-enrolled' });
  await mkdir(join(dataDir, 'identity'));
  await writeFile(join(dataDir, 'identity', 'device.json'), JSON.stringify({ deviceId: 'dev-42', enrolledAt: '2025-01-02T03:04:05Z', fleetUrl: 'https://fleet.example' }));
  t.same(await read(), { state: 'enrolled', deviceId: 'dev-42', enrolledAt: '2025-01-02T03:04:05Z', fleetUrl: 'https://fleet.example' });
  await writeFile(join(dataDir, 'identity', 'device.json'), '{broken');
  t.match(await read(), { state: 'unreadable', detail: /not JSON/ });
});

t.test('parseIdentity', async (t) => {
  t.same(parseIdentity('{"deviceId":"a"}'), { state: 'enrolled', deviceId: 'a' });
  t.same(parseIdentity('{"deviceId":""}'), { state: 'unreadable', detail: 'no deviceId' });
  t.same(parseIdentity('3'), { state: 'unreadable', detail: 'not a JSON object' });
});
