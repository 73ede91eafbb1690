// `plugsrv fleet enroll|status`: enroll this unit with a bootstrap token (from a file or stdin, never a flag), see where it stands.
import type { Command } from 'commander';
import { openAgent } from '../app.js';
import { AgentError, ErrorCode } from '../errors.js';
import { collectInventory, enrollDevice, fleetStatus, readCaFile, readSerial, readToken, type FleetStatus } from '../fleet/index.js';
import { configFrom, makeLogger } from './context.js';

function formatStatus(s: FleetStatus): string {
  const rows: Array<[string, string]> = [];
  rows.push(['fleet management', s.managed ? `on (${s.fleet ?? '?'})` : 'off (fleet.url empty or fleet.enabled false)']);
  rows.push(['enrolled', s.enrolled ? `yes, since ${s.enrolledAt ?? '?'}` : 'no']);
  if (s.enrolled) {
    rows.push(['device id', s.deviceId ?? '']);
    rows.push(['dealer code', s.dealerCode ?? '']);
    rows.push(['link', s.link + (s.lastError && !s.connected ? ` (${s.lastError})` : '')]);
    rows.push(['last contact', s.lastContactAt ?? 'never']);
    rows.push(['last heartbeat', s.lastHeartbeatAt ?? 'never']);
    rows.push(['certificate expires', s.certificateExpiresAt ?? '?']);
    rows.push(['last command seq', String(s.lastSeq)]);
    if (s.pendingResults > 0) rows.push(['results to send', String(s.pendingResults)]);
  }
  rows.push(['policy version', s.policyVersion ? String(s.policyVersion) : 'none']);
  rows.push(['lock', s.locked ? `LOCKED: ${s.lockReason ?? ''}` : 'not locked']);
  if (s.wipePending) rows.push(['wipe', 'PENDING: finished at the next start']);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** plugsrv fleet enroll and fleet status. */
export function registerFleetCommands(program: Command): void {
  const fleet = program.command('fleet').description('fleet management: enrollment of this unit and its link to the fleet');
  fleet
    .command('enroll')
    .description('enroll this unit with its single-use bootstrap token (read from a file, or stdin with "-"; never from a flag)')
    .option('--token-file <file>', 'file holding the bootstrap token, "-" = standard input (default fleet.tokenFile)')
    .option('--force', 'enroll again even though this unit has an identity (a revoked unit, a new token)')
    .option('--json', 'the outcome as JSON')
    .action(async (opts: { tokenFile?: string; force?: boolean; json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd);
      if (config.fleet.url === '') {
        throw new AgentError(ErrorCode.CONFIG, 'fleet.url is not set: set it (PLUGSRV_FLEET_URL or fleet.url in /etc/plugsrv/plugsrv.yaml) to the fleet\'s https:// address, then enroll again.');
      }
      const tokenFile = opts.tokenFile ?? config.fleet.tokenFile;
      const token = await readToken(tokenFile);
      const serial = await readSerial(config.fleet.serial);
      const caFileCerts = await readCaFile(config.fleet.caFile);
      const log = makeLogger(config);
      const agent = await openAgent(config, log);
      try {
        const identity = await enrollDevice({
          dataDir: agent.dataDir,
          db: agent.state.db,
          fleetUrl: config.fleet.url,
          caFileCerts,
          token,
          tokenFile,
          serial,
          inventory: await collectInventory(agent.version, { dataDir: agent.dataDir }),
          log,
          force: Boolean(opts.force),
        });
        if (opts.json) console.log(JSON.stringify({ enrolled: true, deviceId: identity.deviceId, dealerCode: identity.dealerCode, enrolledAt: identity.enrolledAt }));
        else {
          console.log(`enrolled as ${identity.deviceId} (dealer ${identity.dealerCode}).`);
          console.log(opts.force ? 'Restart the service (systemctl restart plugsrv) so it connects with the new identity.' : 'A running `plugsrv serve` connects with it within seconds; otherwise at its next start.');
        }
      } finally {
        agent.close();
      }
    });
  fleet
    .command('status')
    .description('enrolled or not, device id, dealer code, link to the fleet, lock and policy version')
    .option('--json', 'as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd);
      const agent = await openAgent(config, makeLogger(config));
      try {
        const status = await fleetStatus({ config, dataDir: agent.dataDir, db: agent.state.db });
        console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      } finally {
        agent.close();
      }
    });
}
