// The unit's box label as a one-page PDF (pdf-lib): the text a person reads and a QR code the line's scanner reads.
//
// Page: 62 x 100 mm portrait, the common continuous/die-cut label size of desktop label printers (Brother DK-11202
// and the like); printing at 100 % on other stock still works since everything stays 3 mm inside the edges.
// Fonts: the standard Helvetica and Helvetica-Bold (not embedded, WinAnsi), so every text goes through toWinAnsi.
// Black only (thermal printers have no grey). The output is deterministic: no clock, no random document id, the
// PDF's dates are the unit's production time.
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import QRCode from 'qrcode';
import { ErrorCode, LineError } from '../errors.js';
import { fitFontSize, truncateToWidth, wrapToWidth } from './fit.js';
import { labelQrText } from './qr-text.js';
import { toWinAnsi } from './winansi.js';

export interface LabelInput {
  readonly unitId: string;
  readonly serial: string;
  readonly dealerCode: string;
  readonly site: string;
  readonly imageVersion: string;
  /** ISO 8601 date-time of production; the label shows its calendar day as written (YYYY-MM-DD). */
  readonly producedAt: string;
}

/** PDF points per millimetre. */
const MM = 72 / 25.4;
export const LABEL_WIDTH_MM = 62;
export const LABEL_HEIGHT_MM = 100;
const PAGE_W = LABEL_WIDTH_MM * MM;
const PAGE_H = LABEL_HEIGHT_MM * MM;
const MARGIN = 3 * MM;
const CONTENT_W = PAGE_W - 2 * MARGIN;
/** Quiet zone around the QR code, in modules: the 4 the QR standard asks for. */
export const QR_QUIET_MODULES = 4;
/** The QR code's side including its quiet zone, at most (it shrinks if the text above needs the room). */
const QR_MAX = 44 * MM;
const QR_MIN = 25 * MM;
const CAPTION_SIZE = 6.5;
const SITE_MAX_LINES = 3;
const BLACK = rgb(0, 0, 0);
const WHITE = rgb(1, 1, 1);

/** The calendar day of an ISO 8601 date-time as written (no time-zone conversion), or E_INTERNAL if it is not one. */
export function labelDay(producedAt: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ]|$)/.exec(producedAt);
  if (!m || Number.isNaN(Date.parse(producedAt))) {
    throw new LineError(ErrorCode.INTERNAL, `the unit's production time is not an ISO 8601 date: ${JSON.stringify(producedAt)}`);
  }
  return m[1]!;
}

interface Fonts {
  readonly regular: PDFFont;
  readonly bold: PDFFont;
}

interface Row {
  readonly caption: string;
  readonly value: string;
  readonly bold: boolean;
  /** Preferred and smallest font size: the value shrinks to fit before it wraps (up to maxLines) or is cut. */
  readonly size: number;
  readonly minSize: number;
  readonly maxLines: number;
}

/** Draws the rows top-down from `top`; returns the y under the last one. */
function drawRows(page: PDFPage, fonts: Fonts, rows: readonly Row[], top: number): number {
  const captionW = Math.max(...rows.map((r) => fonts.regular.widthOfTextAtSize(r.caption, CAPTION_SIZE))) + 1.5 * MM;
  const valueX = MARGIN + captionW;
  const valueW = PAGE_W - MARGIN - valueX;
  let y = top;
  for (const row of rows) {
    const font = row.bold ? fonts.bold : fonts.regular;
    const value = toWinAnsi(row.value).trim() || '-';
    // Shrink first; what still does not fit wraps onto the row's lines, and only then is cut with '…'.
    const size = fitFontSize(valueW, row.size, row.minSize, (s) => font.widthOfTextAtSize(value, s));
    const measure = (s: string): number => font.widthOfTextAtSize(s, size);
    const lines = row.maxLines > 1 ? wrapToWidth(value, valueW, row.maxLines, measure) : [truncateToWidth(value, valueW, measure)];
    const lineH = size * 1.2;
    y -= font.heightAtSize(size, { descender: false });
    page.drawText(row.caption, { x: MARGIN, y, size: CAPTION_SIZE, font: fonts.regular, color: BLACK });
    lines.forEach((line, i) => {
      page.drawText(line, { x: valueX, y: y - i * lineH, size, font, color: BLACK });
    });
    y -= (lines.length - 1) * lineH + size * 0.55;
  }
  return y;
}

/** Draws a QR code of `side` points (quiet zone included) with its lower-left corner at (x, y); dark runs as rectangles. */
function drawQr(page: PDFPage, text: string, x: number, y: number, side: number): void {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  const unit = side / (n + 2 * QR_QUIET_MODULES);
  page.drawRectangle({ x, y, width: side, height: side, color: WHITE });
  const top = y + side - QR_QUIET_MODULES * unit;
  const left = x + QR_QUIET_MODULES * unit;
  for (let row = 0; row < n; row++) {
    // One rectangle per horizontal run of dark modules: fewer operators, and no hairline seams between neighbours.
    let col = 0;
    while (col < n) {
      if (!modules.get(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < n && modules.get(row, col)) col++;
      page.drawRectangle({ x: left + start * unit, y: top - (row + 1) * unit, width: (col - start) * unit, height: unit, color: BLACK });
    }
  }
}

/** The label PDF of one unit (one 62 x 100 mm page). */
export async function renderLabelPdf(label: LabelInput): Promise<Uint8Array> {
  const qrText = labelQrText({ unitId: label.unitId, serial: label.serial });
  const day = labelDay(label.producedAt);
  const produced = new Date(label.producedAt);

  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.setTitle(`plugsrv label ${label.serial}`);
  doc.setSubject(qrText);
  doc.setCreationDate(produced);
  doc.setModificationDate(produced);
  const fonts: Fonts = { regular: await doc.embedFont(StandardFonts.Helvetica), bold: await doc.embedFont(StandardFonts.HelveticaBold) };
  const page = doc.addPage([PAGE_W, PAGE_H]);

  const titleSize = 18;
  let y = PAGE_H - MARGIN - fonts.bold.heightAtSize(titleSize, { descender: false });
  page.drawText('plugsrv', { x: MARGIN, y, size: titleSize, font: fonts.bold, color: BLACK });
  y -= 3 * MM;

  y = drawRows(page, fonts, [
    { caption: 'S/N', value: label.serial, bold: true, size: 12, minSize: 8, maxLines: 2 },
    { caption: 'Unit', value: label.unitId, bold: false, size: 8, minSize: 6, maxLines: 2 },
    { caption: 'Dealer', value: label.dealerCode, bold: true, size: 10, minSize: 6, maxLines: 1 },
    { caption: 'Site', value: label.site, bold: false, size: 8, minSize: 8, maxLines: SITE_MAX_LINES },
    { caption: 'Image', value: label.imageVersion, bold: false, size: 8, minSize: 5, maxLines: 1 },
    { caption: 'Date', value: day, bold: false, size: 8, minSize: 8, maxLines: 1 },
  ], y);

  // The QR code centred in the room left under the text (its own quiet zone separates it from the text).
  const room = y - MARGIN;
  const side = Math.max(QR_MIN, Math.min(QR_MAX, CONTENT_W, room));
  drawQr(page, qrText, (PAGE_W - side) / 2, MARGIN + Math.max(0, (room - side) / 2), side);

  return doc.save();
}
