// The label step: the unit's printable label (PDF with a QR code of its serial and unit id) in the order's folder.
import { getOrder } from '../orders/index.js';
import { recordStep, type Unit } from '../units/index.js';
import type { LineContext } from './context.js';
import { orderDocsDir } from './personalise.js';

export async function labelStep(ctx: LineContext, unit: Unit): Promise<string> {
  const order = await getOrder(ctx.db, unit.orderId);
  try {
    // pdf-lib and qrcode load only when a label is made (they cost every other command half a second at start).
    const { writeLabel } = await import('../labels/index.js');
    const path = await writeLabel(orderDocsDir(ctx, order.ref), {
      unitId: unit.id,
      serial: unit.serial,
      dealerCode: order.dealerCode,
      site: order.site,
      imageVersion: unit.imageVersion ?? 'unknown',
      producedAt: new Date(ctx.now()).toISOString(),
    });
    await recordStep(ctx.db, unit.id, 'label', 'done', { file: path }, ctx.operator, ctx.now());
    return path;
  } catch (err) {
    await recordStep(ctx.db, unit.id, 'label', 'failed', { code: (err as { code?: string }).code ?? 'E_INTERNAL', message: (err as Error).message }, ctx.operator, ctx.now());
    throw err;
  }
}
