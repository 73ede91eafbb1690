// `plugsrv-fleet devices`, `device show`, the device commands (lock, unlock, wipe, sync, ...), `retire` and `commands`.
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import type { CommandKind } from '../../../lib/fleet/protocol.js';
import { ErrorCode, FleetError } from '../errors.js';
import type { FleetClient } from './client.js';
import { clientFrom, parsePositiveInt } from './context.js';
import { ago, bytes, printJson, renderTable, time } from './table.js';

interface DeviceJson {
  id: string;
  dealerCode: string;
  serial: string;
  status: string;
  online: boolean;
  lastSeenAt: number | null;
  agentVersion: string;
  locked: boolean;
  lockReason: string;
  policy: { assigned: number; applied: number | null };
  sync: { state: string; packagesReady: number } | null;
  storage: { freeBytes: number } | null;
  selfcheck: { status: string } | null;
  [k: string]: unknown;
}

interface CommandJson {
  id: string;
  deviceId: string;
  seq: number;
  kind: string;
  state: string;
  issuedAt: number;
  resultAt: number | null;
  detail: string | null;
  data?: unknown;
  args?: Record<string, unknown>;
}

const FINAL = new Set(['ok', 'failed', 'rejected', 'expired']);

function commandRows(list: CommandJson[]): string {
  return renderTable(
    ['COMMAND', 'DEVICE', 'SEQ', 'KIND', 'STATE', 'ISSUED', 'ANSWERED', 'DETAIL'],
    list.map((c) => [c.id, c.deviceId, String(c.seq), c.kind, c.state, time(c.issuedAt), time(c.resultAt), (c.detail ?? '').slice(0, 60)]),
  );
}

/** Polls a command until it is answered or expired, or `seconds` pass. */
async function waitFor(client: FleetClient, id: string, seconds: number): Promise<CommandJson> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const c = await client.json<CommandJson>('GET', `/v1/commands/${id}`);
    if (FINAL.has(c.state) || Date.now() >= until) return c;
    await delay(Math.min(500, Math.max(50, until - Date.now())));
  }
}

interface SendOptions {
  all?: boolean;
  ttl?: number;
  wait?: number;
  json?: boolean;
}

/** Sends one kind of command to one device, several, or all active ones; with --wait, follows the result. */
async function send(cmd: Command, ids: string[], kind: CommandKind, args: Record<string, unknown>, opts: SendOptions): Promise<void> {
  const client = clientFrom(cmd);
  const ttl = opts.ttl !== undefined ? { ttlSeconds: opts.ttl } : {};
  if (opts.all || ids.length > 1) {
    if (opts.all && ids.length > 0) throw new FleetError(ErrorCode.BAD_REQUEST, 'give device ids or --all, not both.');
    const res = await client.json<{ count: number; commands: CommandJson[] }>('POST', '/v1/commands', { kind, args, ...ttl, target: opts.all ? { all: true } : { deviceIds: ids } });
    if (opts.json) printJson(res);
    else console.log(`queued ${kind} for ${res.count} device(s)`);
    return;
  }
  const id = ids[0];
  if (!id) throw new FleetError(ErrorCode.BAD_REQUEST, 'give a device id (plugsrv-fleet devices lists them) or --all.');
  const res = await client.json<{ command: CommandJson; online: boolean }>('POST', `/v1/devices/${encodeURIComponent(id)}/commands`, { kind, args, ...ttl });
  let command = res.command;
  if (opts.wait !== undefined) command = await waitFor(client, command.id, opts.wait);
  if (opts.json) printJson(opts.wait !== undefined ? command : res);
  else if (opts.wait === undefined) {
    console.log(`queued ${kind} ${command.id} (seq ${command.seq}) for ${id}: ${res.online ? 'the device is online, it gets it now' : 'the device is offline, it gets it when it reconnects'}`);
  } else console.log(`${kind} ${command.id} for ${id}: ${command.state}${command.detail ? ` (${command.detail})` : ''}`);
  if (opts.wait !== undefined && command.state !== 'ok') process.exitCode = 1;
}

function deviceCommand(program: Command, name: string, kind: CommandKind, description: string, extra?: (c: Command) => Command, argsOf: (opts: Record<string, unknown>) => Record<string, unknown> = () => ({})): void {
  let c = program
    .command(name)
    .description(description)
    .argument('[ids...]', 'device ids (dev_...)')
    .option('--all', 'every active device')
    .option('--ttl <seconds>', 'expire the command if not answered within this time (default commands.ttlHours)', parsePositiveInt('--ttl'))
    .option('--wait <seconds>', 'wait up to this long for the result (one device); exit 1 unless ok', parsePositiveInt('--wait'))
    .option('--json', 'as JSON');
  if (extra) c = extra(c);
  c.action(async (ids: string[], opts: SendOptions & Record<string, unknown>, cmd: Command) => send(cmd, ids, kind, argsOf(opts), opts));
}

export function registerDeviceCommands(program: Command): void {
  program
    .command('devices')
    .description('list enrolled devices: online state, last seen, lock, policy, sync, self-check')
    .option('--dealer <code>', 'one dealer (8 digits)')
    .option('--status <status>', 'active, retiring, retired or wiped')
    .option('--online', 'connected now only')
    .option('--offline', 'not connected now only')
    .option('--json', 'as JSON')
    .action(async (opts: { dealer?: string; status?: string; online?: boolean; offline?: boolean; json?: boolean }, cmd: Command) => {
      const q = new URLSearchParams();
      if (opts.dealer) q.set('dealerCode', opts.dealer);
      if (opts.status) q.set('status', opts.status);
      if (opts.online) q.set('online', 'true');
      if (opts.offline) q.set('online', 'false');
      const res = await clientFrom(cmd).json<{ devices: DeviceJson[] }>('GET', `/v1/devices${q.size > 0 ? `?${q}` : ''}`);
      if (opts.json) return printJson(res);
      const now = Date.now();
      console.log(
        renderTable(
          ['DEVICE', 'DEALER', 'SERIAL', 'STATUS', 'ONLINE', 'LAST SEEN', 'AGENT', 'LOCK', 'POLICY', 'SYNC', 'READY', 'FREE', 'CHECK'],
          res.devices.map((d) => [
            d.id,
            d.dealerCode,
            d.serial,
            d.status,
            d.online ? 'yes' : 'no',
            ago(d.lastSeenAt, now),
            d.agentVersion || '-',
            d.locked ? 'locked' : '-',
            `${d.policy.applied ?? '-'}/${d.policy.assigned}`,
            d.sync?.state ?? '-',
            d.sync ? String(d.sync.packagesReady) : '-',
            bytes(d.storage?.freeBytes),
            d.selfcheck?.status ?? '-',
          ]),
        ),
      );
      console.log(`${res.devices.length} device(s), ${res.devices.filter((d) => d.online).length} online`);
    });

  program
    .command('device')
    .description('one device')
    .command('show')
    .description('everything about one device: state, latest heartbeat, certificates, recent commands')
    .argument('<id>', 'device id (dev_...)')
    .option('--json', 'as JSON')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const d = await clientFrom(cmd).json<DeviceJson & { heartbeat: Record<string, unknown> | null; certificates: Array<{ serial: string; notAfter: number; revokedAt: number | null }>; commands: CommandJson[]; lastSeq: number; ackedSeq: number }>(
        'GET',
        `/v1/devices/${encodeURIComponent(id)}`,
      );
      if (opts.json) return printJson(d);
      const lines: Array<[string, string]> = [
        ['device', d.id],
        ['dealer', d.dealerCode],
        ['serial', d.serial],
        ['status', d.status],
        ['online', d.online ? 'yes' : 'no'],
        ['last seen', `${time(d.lastSeenAt)} (${ago(d.lastSeenAt)})`],
        ['agent', d.agentVersion || '-'],
        ['lock', d.locked ? `locked: ${d.lockReason}` : 'unlocked'],
        ['policy', `applied ${d.policy.applied ?? '-'}, assigned ${d.policy.assigned}`],
        ['sync', d.sync ? `${d.sync.state}, ${d.sync.packagesReady} packages ready` : '-'],
        ['storage', d.storage ? `${bytes(d.storage.freeBytes)} free` : '-'],
        ['self-check', d.selfcheck?.status ?? '-'],
        ['commands', `last seq ${d.lastSeq}, device accepted up to ${d.ackedSeq}`],
        ['certificate', d.certificates.map((c) => `${c.serial} until ${time(c.notAfter)}${c.revokedAt ? ' (revoked)' : ''}`).join('; ') || '-'],
      ];
      console.log(lines.map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n'));
      if (d.commands.length > 0) console.log(`\n${commandRows(d.commands)}`);
    });

  deviceCommand(program, 'lock', 'lock', 'lock devices: their package routes answer 423 with the reason until unlocked', (c) => c.requiredOption('-r, --reason <text>', 'why (shown to the dealer)'), (o) => ({
    reason: o.reason,
  }));
  deviceCommand(program, 'unlock', 'unlock', 'unlock devices');
  deviceCommand(program, 'sync', 'sync-now', 'make devices sync their catalog now, whatever their night window');
  deviceCommand(program, 'selfcheck', 'selfcheck-now', 'make devices run their site self-check now');
  deviceCommand(program, 'reboot', 'reboot', 'reboot devices');
  deviceCommand(program, 'collect-logs', 'collect-logs', 'fetch the last log lines of devices (see them with command show)', (c) => c.option('--lines <n>', 'how many lines', parsePositiveInt('--lines')), (o) => (o.lines ? { lines: o.lines } : {}));
  program
    .command('wipe')
    .description('erase a device\'s store and identity (needs an admin key); it must enroll again afterwards')
    .argument('<id>', 'device id (dev_...)')
    .option('--yes', 'confirm: the device\'s packages and enrollment are erased')
    .option('--ttl <seconds>', 'expire the command if not answered within this time', parsePositiveInt('--ttl'))
    .option('--wait <seconds>', 'wait up to this long for the result; exit 1 unless ok', parsePositiveInt('--wait'))
    .option('--json', 'as JSON')
    .action(async (id: string, opts: SendOptions & { yes?: boolean }, cmd: Command) => {
      if (!opts.yes) throw new FleetError(ErrorCode.BAD_REQUEST, `wipe erases ${id}'s packages and identity; add --yes to confirm.`);
      await send(cmd, [id], 'wipe', {}, opts);
    });
  program
    .command('retire')
    .description('take a device out of service for good: it is told to forget its identity; its certificate is revoked')
    .argument('<id>', 'device id (dev_...)')
    .option('--force', 'retire at once, without waiting for the device (a lost or replaced unit)')
    .option('--json', 'as JSON')
    .action(async (id: string, opts: { force?: boolean; json?: boolean }, cmd: Command) => {
      const res = await clientFrom(cmd).json<{ status: string; command: CommandJson | null }>('POST', `/v1/devices/${encodeURIComponent(id)}/retire`, { force: Boolean(opts.force) });
      if (opts.json) return printJson(res);
      console.log(res.status === 'retired' ? `${id} is retired; its certificate is revoked.` : `${id} is retiring: ${res.command?.id ?? 'a retire command'} is queued; it becomes retired when the device confirms.`);
    });

  program
    .command('commands')
    .description('recent commands and their results')
    .option('--device <id>', 'one device')
    .option('--state <state>', 'queued, delivered, ok, failed, rejected or expired')
    .option('--kind <kind>', 'lock, unlock, wipe, ...')
    .option('--limit <n>', 'how many (default 100)', parsePositiveInt('--limit'))
    .option('--json', 'as JSON')
    .action(async (opts: { device?: string; state?: string; kind?: string; limit?: number; json?: boolean }, cmd: Command) => {
      const q = new URLSearchParams();
      if (opts.device) q.set('deviceId', opts.device);
      if (opts.state) q.set('state', opts.state);
      if (opts.kind) q.set('kind', opts.kind);
      if (opts.limit) q.set('limit', String(opts.limit));
      const res = await clientFrom(cmd).json<{ commands: CommandJson[] }>('GET', `/v1/commands${q.size > 0 ? `?${q}` : ''}`);
      if (opts.json) return printJson(res);
      console.log(commandRows(res.commands));
    });
  program
    .command('command')
    .description('one command')
    .command('show')
    .description('a command, its result and output (collect-logs lines)')
    .argument('<id>', 'command id (cmd_...)')
    .option('--json', 'as JSON')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const c = await clientFrom(cmd).json<CommandJson>('GET', `/v1/commands/${encodeURIComponent(id)}`);
      if (opts.json) return printJson(c);
      console.log(commandRows([c]));
      if (c.args && Object.keys(c.args).length > 0) console.log(`\nargs: ${JSON.stringify(c.args)}`);
      const lines = (c.data as { lines?: unknown } | null)?.lines;
      if (Array.isArray(lines)) console.log(`\n${lines.join('\n')}`);
      else if (c.data !== null && c.data !== undefined) console.log(`\ndata: ${JSON.stringify(c.data, null, 2)}`);
    });
}
