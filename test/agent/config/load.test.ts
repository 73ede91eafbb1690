// Configuration: defaults < YAML file < PLUGSRV_* env < flags, with errors that name the key, the source and the expectation.
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { envNameOf, loadConfig } from '../../../agent/src/config/index.js';
import { tempDir } from '../../helpers/agent-process.js';

t.test('defaults work with nothing given', async (t) => {
  const c = loadConfig({ env: {} });
  t.equal(c.serve.port, 8080);
  t.equal(c.serve.host, '0.0.0.0');
  t.equal(c.log.level, 'info');
});

t.test('precedence: file < env < flags', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'plugsrv.yaml');
  await writeFile(file, 'dataDir: /srv/plugsrv\nserve:\n  port: 9000\n  maxConnections: 64\nlog:\n  level: debug\n');
  const fromFile = loadConfig({ file, env: {} });
  t.match(fromFile, { dataDir: '/srv/plugsrv', serve: { port: 9000, maxConnections: 64, host: '0.0.0.0' }, log: { level: 'debug' } });
  const fromEnv = loadConfig({ file, env: { PLUGSRV_SERVE_PORT: '9100', PLUGSRV_SERVE_MAX_CONNECTIONS: '32' } });
  t.match(fromEnv.serve, { port: 9100, maxConnections: 32 });
  const fromFlags = loadConfig({ file, env: { PLUGSRV_SERVE_PORT: '9100' }, flags: { 'serve.port': 9200, dataDir: undefined } });
  t.equal(fromFlags.serve.port, 9200);
  t.equal(fromFlags.dataDir, '/srv/plugsrv', 'an undefined flag does not override');
  const viaEnvFile = loadConfig({ env: { PLUGSRV_CONFIG: file } });
  t.equal(viaEnvFile.serve.port, 9000, 'PLUGSRV_CONFIG names the file');
});

t.test('env names derive from option paths', async (t) => {
  t.equal(envNameOf('serve.maxConnections'), 'PLUGSRV_SERVE_MAX_CONNECTIONS');
  t.equal(envNameOf('dataDir'), 'PLUGSRV_DATA_DIR');
});

t.test('errors name the bad key, where it came from, and what is expected', async (t) => {
  t.throws(() => loadConfig({ env: { PLUGSRV_SERVE_PORT: 'eighty' } }), {
    code: 'E_CONFIG',
    message: /serve\.port: .*number.*\(from environment PLUGSRV_SERVE_PORT\)/,
  });
  t.throws(() => loadConfig({ env: {}, flags: { 'serve.port': 70000 } }), { message: /serve\.port: .*65535.*flag --port/ });
  t.throws(() => loadConfig({ env: { PLUGSRV_SERVE_PROT: '1' } }), { message: /unknown environment variable PLUGSRV_SERVE_PROT.*PLUGSRV_SERVE_PORT/ });
  t.throws(() => loadConfig({ env: { PLUGSRV_LOG_LEVEL: 'verbose' } }), { message: /log\.level: .*"debug"/ });
  const dir = await tempDir(t);
  const typo = join(dir, 'typo.yaml');
  await writeFile(typo, 'serve:\n  prot: 80\n');
  t.throws(() => loadConfig({ file: typo, env: {} }), { message: new RegExp(`unknown option serve\\.prot \\(from ${typo.replace(/[.]/g, '\\.')}\\)`) });
  const broken = join(dir, 'broken.yaml');
  await writeFile(broken, 'serve:\n  port: [1,\n');
  t.throws(() => loadConfig({ file: broken, env: {} }), { code: 'E_CONFIG', message: /not valid YAML at line/ });
  const list = join(dir, 'list.yaml');
  await writeFile(list, '- a\n- b\n');
  t.throws(() => loadConfig({ file: list, env: {} }), { message: /mapping of options/ });
  t.throws(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }), { message: /cannot read the configuration file/ });
});

t.test('the CLI reports a config error with exit code 2', async (t) => {
  const { runCli } = await import('../../helpers/agent-process.js');
  const r = await runCli(['serve'], { env: { PLUGSRV_SERVE_PORT: '-1', PLUGSRV_DATA_DIR: await tempDir(t) } });
  t.equal(r.code, 2);
  t.match(r.stderr, /E_CONFIG: invalid configuration:\n {2}- serve\.port/);
});
