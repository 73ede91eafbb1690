// Fleet configuration: defaults < file < PLUGSRV_FLEET_* env < flags; the CLI's own variables are not options.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { envNameOf, loadConfig } from '../../../fleet/src/config/index.js';
import { tempDir } from '../../helpers/agent-process.js';

t.test('defaults work with nothing given', async (t) => {
  const c = loadConfig({ env: {} });
  t.match(c, { dataDir: './plugsrv-fleet-data', serve: { host: '0.0.0.0', port: 8443, publicNames: [] }, ca: { deviceCertDays: 90 }, commands: { ttlHours: 168 }, hub: { heartbeatFlushMs: 1000 } });
});

t.test('precedence and env names', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'fleet.yaml');
  await writeFile(file, 'serve:\n  port: 9443\n  publicNames: [fleet.example.com]\nenroll:\n  rateBurst: 5\n');
  t.match(loadConfig({ file, env: {} }), { serve: { port: 9443, publicNames: ['fleet.example.com'] }, enroll: { rateBurst: 5 } });
  t.equal(envNameOf('enroll.ratePerMinute'), 'PLUGSRV_FLEET_ENROLL_RATE_PER_MINUTE');
  const env = loadConfig({ file, env: { PLUGSRV_FLEET_SERVE_PORT: '10443', PLUGSRV_FLEET_SERVE_PUBLIC_NAMES: 'a.example, 10.0.0.1' } });
  t.match(env.serve, { port: 10443, publicNames: ['a.example', '10.0.0.1'] });
  t.equal(loadConfig({ file, env: { PLUGSRV_FLEET_SERVE_PORT: '10443' }, flags: { 'serve.port': 0 } }).serve.port, 0);
  t.equal(loadConfig({ env: { PLUGSRV_FLEET_CONFIG: file } }).serve.port, 9443);
});

t.test('the CLI\'s variables are allowed, unknown ones are not', async (t) => {
  t.doesNotThrow(() => loadConfig({ env: { PLUGSRV_FLEET_URL: 'https://x', PLUGSRV_FLEET_API_KEY: 'pak_...' } }));
  t.throws(() => loadConfig({ env: { PLUGSRV_FLEET_SERVE_PROT: '1' } }), { code: 'E_CONFIG', message: /unknown environment variable PLUGSRV_FLEET_SERVE_PROT/ });
  t.throws(() => loadConfig({ env: { PLUGSRV_FLEET_SERVE_PORT: 'http' } }), { code: 'E_CONFIG', message: /serve\.port.*environment PLUGSRV_FLEET_SERVE_PORT/ });
  t.throws(() => loadConfig({ env: {}, flags: { 'serve.publicUrl': 'http://fleet' } }), { code: 'E_CONFIG', message: /https:\/\// });
});

t.test('given certificates come as a set of five files', async (t) => {
  t.throws(() => loadConfig({ env: {}, flags: { 'tls.certFile': '/x/server.pem', 'tls.keyFile': '/x/server.key' } }), { code: 'E_CONFIG', message: /missing tls\.rootCaFile, tls\.deviceCaCertFile, tls\.deviceCaKeyFile/ });
});
