// `plugsrv-fleet keys create|list|revoke` and `ca show`: local commands on the data dir (no running fleet needed).
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { scope as scopeSchema, type Scope } from '../../../lib/fleet/protocol.js';
import type { AuditLog as AuditLogType } from '../audit/index.js';
import type { StateDb } from '../db/index.js';
import type * as Auth from '../auth/index.js';
import { join } from 'node:path';
import { ErrorCode, FleetError } from '../errors.js';
import { configFrom } from './context.js';
import { printJson, renderTable, time } from './table.js';

/** The DB and what the key commands use, loaded on demand (client commands need none of it). */
async function local(cmd: Command): Promise<{ state: StateDb; auth: typeof Auth; audit: AuditLogType }> {
  const [{ openFleetState }, auth, { AuditLog }] = await Promise.all([import('../app.js'), import('../auth/index.js'), import('../audit/index.js')]);
  const { state } = await openFleetState(configFrom(cmd));
  return { state, auth, audit: new AuditLog(state.db) };
}

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('operator API keys, managed on the fleet\'s data dir (run on the fleet host)');
  keys
    .command('create')
    .description('make an API key and print it once (scopes: read < operate < provision < admin)')
    .addOption(new Option('--scope <scope>', 'what the key may do').choices([...scopeSchema.options]).makeOptionMandatory())
    .option('--name <name>', 'who or what uses it (shown in keys list and the audit)')
    .option('--json', 'as JSON')
    .action(async (opts: { scope: string; name?: string; json?: boolean }, cmd: Command) => {
      const scope: Scope = scopeSchema.parse(opts.scope);
      const { state, auth, audit } = await local(cmd);
      try {
        const now = Date.now();
        const { key, info } = await auth.createApiKey(state.db, { scope, name: opts.name ?? '', createdBy: 'local', now });
        await audit.record({ actor: 'local', action: 'key.create', target: `key:${info.id}`, outcome: 'ok', detail: { scope, name: info.name } });
        if (opts.json) printJson({ ...info, key });
        else {
          console.log(`API key ${info.id} (${scope}${info.name ? `, ${info.name}` : ''}):\n\n  ${key}\n`);
          console.log('It is shown only now. Give it to the CLI through the environment: export PLUGSRV_FLEET_API_KEY=...');
        }
      } finally {
        state.close();
      }
    });
  keys
    .command('list')
    .description('list API keys (ids and scopes; secrets are never stored)')
    .option('--json', 'as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { state, auth } = await local(cmd);
      try {
        const list = await auth.listApiKeys(state.db);
        if (opts.json) printJson({ keys: list });
        else console.log(renderTable(['ID', 'SCOPE', 'NAME', 'CREATED', 'REVOKED'], list.map((k) => [k.id, k.scope, k.name, time(k.createdAt), time(k.revokedAt)])));
      } finally {
        state.close();
      }
    });
  keys
    .command('revoke')
    .description('revoke an API key at once')
    .argument('<id>', 'key id (the part after pak_)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { state, auth, audit } = await local(cmd);
      try {
        const ok = await auth.revokeApiKey(state.db, id, Date.now());
        await audit.record({ actor: 'local', action: 'key.revoke', target: `key:${id}`, outcome: ok ? 'ok' : 'failed', code: ok ? undefined : ErrorCode.NOT_FOUND });
        if (!ok) throw new FleetError(ErrorCode.NOT_FOUND, `no API key ${id}; see plugsrv-fleet keys list.`);
        console.log(`revoked ${id}`);
      } finally {
        state.close();
      }
    });

  program
    .command('ca')
    .description('the fleet\'s root CA: what operators pass with --ca and what provisioning installs on devices')
    .command('show')
    .description('print the root CA file, its fingerprint and validity')
    .option('--pem', 'print the PEM itself')
    .action((opts: { pem?: boolean }, cmd: Command) => {
      const config = configFrom(cmd);
      const file = config.tls.rootCaFile || join(config.dataDir, 'ca', 'root.pem');
      if (!existsSync(file)) throw new FleetError(ErrorCode.CA, `no root CA at ${file}; start the fleet once (plugsrv-fleet serve) to generate it.`);
      const pem = readFileSync(file, 'utf8');
      if (opts.pem) {
        process.stdout.write(pem);
        return;
      }
      const cert = new X509Certificate(pem);
      console.log(`file:        ${file}\nsubject:     ${cert.subject.replace(/\n/g, ', ')}\nsha256:      ${cert.fingerprint256}\nvalid until: ${cert.validTo}`);
    });
}
