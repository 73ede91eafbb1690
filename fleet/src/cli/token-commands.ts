// `plugsrv-fleet tokens create|list|revoke`: bootstrap tokens for enrolling units (provision scope).
import type { Command } from 'commander';
import { clientFrom } from './context.js';
import { printJson, renderTable, time } from './table.js';

interface TokenJson {
  id: string;
  dealerCode: string;
  serial: string | null;
  note: string;
  expiresAt: number;
  usedAt: number | null;
  deviceId: string | null;
  state: string;
  token?: string;
}

function hours(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([hd]?)$/.exec(value.trim());
  if (!m) throw new Error(`--expires-in must be hours (72, 72h) or days (3d), not "${value}"`);
  return Number(m[1]) * (m[2] === 'd' ? 24 : 1);
}

export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('single-use bootstrap tokens that enroll units (provision scope)');
  tokens
    .command('create')
    .description('mint a token for a dealer (and optionally one unit\'s serial); it is printed once')
    .requiredOption('--dealer <code>', 'dealer entity code (8 digits)')
    .option('--serial <serial>', 'only the unit with this serial may use it')
    .option('--expires-in <duration>', 'lifetime, such as 72h or 7d (default enroll.tokenDefaultHours)', hours)
    .option('--note <text>', 'what it is for (order number, site)')
    .option('--json', 'as JSON')
    .action(async (opts: { dealer: string; serial?: string; expiresIn?: number; note?: string; json?: boolean }, cmd: Command) => {
      const t = await clientFrom(cmd).json<TokenJson>('POST', '/v1/tokens', { dealerCode: opts.dealer, serial: opts.serial, expiresInHours: opts.expiresIn, note: opts.note });
      if (opts.json) return printJson(t);
      console.log(`bootstrap token ${t.id} for dealer ${t.dealerCode}${t.serial ? `, serial ${t.serial}` : ''}, valid until ${time(t.expiresAt)}:\n\n  ${t.token}\n`);
      console.log('It is shown only now and enrolls one unit once.');
    });
  tokens
    .command('list')
    .description('tokens with their state (unused, used, expired); never their secrets')
    .option('--dealer <code>', 'one dealer')
    .option('--unused', 'only tokens that can still enroll')
    .option('--json', 'as JSON')
    .action(async (opts: { dealer?: string; unused?: boolean; json?: boolean }, cmd: Command) => {
      const q = new URLSearchParams();
      if (opts.dealer) q.set('dealerCode', opts.dealer);
      if (opts.unused) q.set('unused', 'true');
      const res = await clientFrom(cmd).json<{ tokens: TokenJson[] }>('GET', `/v1/tokens${q.size > 0 ? `?${q}` : ''}`);
      if (opts.json) return printJson(res);
      console.log(
        renderTable(
          ['TOKEN', 'DEALER', 'SERIAL', 'STATE', 'EXPIRES', 'USED', 'DEVICE', 'NOTE'],
          res.tokens.map((t) => [t.id, t.dealerCode, t.serial ?? '-', t.state, time(t.expiresAt), time(t.usedAt), t.deviceId ?? '-', t.note]),
        ),
      );
    });
  tokens
    .command('revoke')
    .description('make an unused token unusable now')
    .argument('<id>', 'token id (the part after pbt_)')
    .option('--json', 'as JSON')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const t = await clientFrom(cmd).json<TokenJson>('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
      if (opts.json) return printJson(t);
      console.log(`token ${t.id} can no longer enroll`);
    });
}
