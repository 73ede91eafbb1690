// `plugsrv-fleet audit`, `report active-units` and `stats`.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { clientFrom, parsePositiveInt } from './context.js';
import { printJson, renderTable, time } from './table.js';

interface AuditJson {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  code: string | null;
  detail: Record<string, unknown> | null;
  remote: string;
}

export function registerOpsCommands(program: Command): void {
  program
    .command('audit')
    .description('who did what: every operator action and enrollment, newest first (admin scope)')
    .option('--limit <n>', 'how many (default 100, at most 1000)', parsePositiveInt('--limit'))
    .option('--since <date>', 'from this date (2025-01-31 or an ISO time)')
    .option('--actor <keyId>', 'one API key (or local, token:<id>)')
    .option('--action <action>', 'one action (token.create, command.lock, device.retire, ...)')
    .option('--json', 'as JSON')
    .action(async (opts: { limit?: number; since?: string; actor?: string; action?: string; json?: boolean }, cmd: Command) => {
      const q = new URLSearchParams();
      if (opts.limit) q.set('limit', String(opts.limit));
      if (opts.since) q.set('since', opts.since);
      if (opts.actor) q.set('actor', opts.actor);
      if (opts.action) q.set('action', opts.action);
      const res = await clientFrom(cmd).json<{ entries: AuditJson[] }>('GET', `/v1/audit${q.size > 0 ? `?${q}` : ''}`);
      if (opts.json) return printJson(res);
      console.log(
        renderTable(
          ['AT', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'DETAIL'],
          res.entries.map((e) => [time(e.at), e.actor, e.action, e.target, e.code ? `${e.outcome} ${e.code}` : e.outcome, e.detail ? JSON.stringify(e.detail).slice(0, 80) : '']),
        ),
      );
    });

  program
    .command('report')
    .description('reports')
    .command('active-units')
    .description('units active (a heartbeat) per dealer per month, for the licence invoice')
    .option('--from <month>', 'first month, YYYY-MM (default this month)')
    .option('--to <month>', 'last month, YYYY-MM (default --from)')
    .option('--csv', 'CSV (month,dealer_code,active_units)')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--json', 'as JSON')
    .action(async (opts: { from?: string; to?: string; csv?: boolean; out?: string; json?: boolean }, cmd: Command) => {
      const q = new URLSearchParams();
      if (opts.from) q.set('from', opts.from);
      if (opts.to) q.set('to', opts.to);
      const client = clientFrom(cmd);
      let text: string;
      if (opts.csv) {
        q.set('format', 'csv');
        text = await client.text(`/v1/reports/active-units?${q}`);
      } else {
        const res = await client.json<{ from: string; to: string; rows: Array<{ month: string; dealerCode: string; activeUnits: number }> }>('GET', `/v1/reports/active-units${q.size > 0 ? `?${q}` : ''}`);
        text = opts.json
          ? `${JSON.stringify(res, null, 2)}\n`
          : `${renderTable(['MONTH', 'DEALER', 'ACTIVE UNITS'], res.rows.map((r) => [r.month, r.dealerCode, String(r.activeUnits)]))}\n${res.rows.reduce((n, r) => n + r.activeUnits, 0)} unit-months from ${res.from} to ${res.to}\n`;
      }
      if (opts.out) await writeFile(opts.out, text);
      else process.stdout.write(text);
    });

  program
    .command('stats')
    .description('live figures: connected devices, pending commands, heartbeat writes, event-loop delay')
    .option('--json', 'as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const s = await clientFrom(cmd).json<Record<string, unknown> & { connected: number; devices: Record<string, number>; commands: { pending: number }; eventLoop: { p99Ms: number } | null }>('GET', '/v1/stats');
      if (opts.json) return printJson(s);
      console.log(
        [
          `connected devices: ${s.connected}`,
          `devices:           ${Object.entries(s.devices).map(([k, v]) => `${v} ${k}`).join(', ')}`,
          `pending commands:  ${s.commands.pending}`,
          `event loop p99:    ${s.eventLoop ? `${s.eventLoop.p99Ms} ms` : '-'}`,
        ].join('\n'),
      );
    });
}
