// `plugsrv-fleet serve`: run the fleet until SIGTERM/SIGINT, then close device sockets (1001) and finish DB writes.
import type { Command } from 'commander';
import { collect, configFrom, makeLogger, parsePort } from './context.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the fleet service: operator API, enrollment and the device hub over HTTPS (default 0.0.0.0:8443)')
    .option('--host <address>', 'address to listen on')
    .option('-p, --port <port>', 'TCP port to listen on (0 = any free port)', parsePort)
    .option('--public-name <name>', 'DNS name or IP the generated server certificate also covers (repeatable)', collect)
    .action(async (opts: { host?: string; port?: number; publicName?: string[] }, cmd: Command) => {
      const config = configFrom(cmd, { 'serve.host': opts.host, 'serve.port': opts.port, 'serve.publicNames': opts.publicName });
      const log = makeLogger(config);
      // Loaded here, not at the top: client commands start faster without the service's modules.
      const [{ openFleet }, { startFleetServer }] = await Promise.all([import('../app.js'), import('../api/index.js')]);
      const fleet = await openFleet(config, log);
      let running;
      try {
        running = await startFleetServer(fleet);
      } catch (err) {
        await fleet.close();
        throw err;
      }
      log.info('serving', { url: running.url, host: running.host, port: running.port, dataDir: fleet.dataDir, rootCa: fleet.ca.rootFile, version: fleet.version });
      await new Promise<void>((resolveStop) => {
        const stop = (signal: string): void => {
          log.info('stopping', { signal });
          running
            .stop()
            .then(() => fleet.close())
            .catch((err: unknown) => log.error('stop failed', { error: err }))
            .finally(() => {
              log.info('stopped', {});
              log.close();
              resolveStop();
            });
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
