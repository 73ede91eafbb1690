// The personalisation step: a bootstrap token minted at the fleet for this dealer and serial, a fresh temporary
// console password (its scrypt hash goes to the unit, the password itself only into the dealer letter), the files
// written into the target's plugsrv-perso partition, then the letter. The token and password exist in memory only;
// a redo revokes the previous token first.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword } from '../../../lib/password-hash.js';
import { ErrorCode, LineError } from '../errors.js';
import { generateTemporaryPassword, writeLetter } from '../letter/index.js';
import { getOrder } from '../orders/index.js';
import { findPersoPartition, persoFiles, writePerso } from '../personalise/index.js';
import { recordStep, type Unit } from '../units/index.js';
import type { LineContext } from './context.js';

async function optionalFile(path: string, what: string): Promise<string | null> {
  if (!path) return null;
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new LineError(ErrorCode.CONFIG, `cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix the line's configuration.`, { cause: err });
  }
}

/** The order's documents folder (letters, labels). */
export function orderDocsDir(ctx: LineContext, orderRef: string): string {
  return join(ctx.docsDir, orderRef.replace(/[^A-Za-z0-9._-]/g, '_'));
}

export async function personaliseStep(ctx: LineContext, unit: Unit, target: string): Promise<{ letter: string[] }> {
  const order = await getOrder(ctx.db, unit.orderId);
  const config = ctx.config;
  const fleetUrl = config.fleet.unitUrl || config.fleet.url;
  if (!fleetUrl) throw new LineError(ErrorCode.CONFIG, 'fleet.url is not set: the unit needs a bootstrap token from the fleet (set fleet.url in line.yaml or PLUGSRV_LINE_FLEET_URL).');
  const [fleetCaPem, siteTemplateYaml, catalogRootJson] = await Promise.all([
    optionalFile(config.fleet.caFile, 'the fleet CA'),
    optionalFile(config.unit.siteTemplate, 'the unit site template'),
    optionalFile(config.unit.catalogRoot, 'the catalog root'),
  ]);
  // Check the partition before minting anything.
  await findPersoPartition(target);
  const fleet = ctx.fleet();
  if (unit.tokenId) {
    // A previous attempt minted a token that this one replaces: it must not stay usable.
    await fleet.revokeToken(unit.tokenId).catch(() => undefined);
  }
  const producedAt = new Date(ctx.now()).toISOString();
  const minted = await fleet.mintToken(order.dealerCode, unit.serial, `line ${unit.id} order ${order.ref}`, config.fleet.tokenHours);
  const password = generateTemporaryPassword();
  try {
    const passwordHashLine = await hashPassword(password);
    const files = persoFiles({
      unitId: unit.id,
      serial: unit.serial,
      orderRef: order.ref,
      dealerCode: order.dealerCode,
      site: order.site,
      lang: order.lang,
      network: order.network,
      fleetUrl,
      fleetCaPem,
      siteTemplateYaml: siteTemplateYaml ?? '',
      catalogRootJson,
      bootstrapToken: minted.token,
      passwordHashLine,
      imageVersion: unit.imageVersion ?? 'unknown',
      producedAt,
    });
    const written = await writePerso(target, files, { progress: ctx.progress });
    const letter = await writeLetter(
      orderDocsDir(ctx, order.ref),
      { lang: order.lang, dealerCode: order.dealerCode, site: order.site, contactEmail: order.contactEmail, serial: unit.serial, unitId: unit.id, password, producedAt },
      ['html', 'txt'],
    );
    await recordStep(
      ctx.db,
      unit.id,
      'personalise',
      'done',
      { target, partition: written.partition, files: written.files, fsSha256: written.fsSha256, tokenId: minted.id, tokenExpiresAt: minted.expiresAt },
      ctx.operator,
      ctx.now(),
      { tokenId: minted.id },
    );
    await recordStep(ctx.db, unit.id, 'letter', 'done', { files: letter, lang: order.lang }, ctx.operator, ctx.now());
    return { letter };
  } catch (err) {
    // Nothing may keep a usable token whose unit was not written (or whose password is lost with this process).
    await fleet.revokeToken(minted.id).catch(() => undefined);
    await recordStep(ctx.db, unit.id, 'personalise', 'failed', { target, code: (err as LineError).code ?? 'E_INTERNAL', message: (err as Error).message, tokenRevoked: minted.id }, ctx.operator, ctx.now(), { tokenId: null });
    throw err;
  }
}
