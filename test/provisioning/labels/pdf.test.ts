// The label PDF: its page, determinism, and, with the real Debian tools, what a scanner and a reader get from it:
// rasterised at 300 dpi by pdftoppm, the QR code decoded by zbarimg must be labelQrText(...) and parse back to the
// unit; pdftotext must find every line, French accents intact and '?' where Helvetica has no glyph.
import t from 'tap';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { LABEL_HEIGHT_MM, LABEL_WIDTH_MM, labelDay, labelQrText, parseLabelQrText, renderLabelPdf, writeLabel, type LabelInput } from '../../../provisioning/src/labels/index.js';
import { tempDir } from '../../helpers/agent-process.js';
import { run, toolsMissing } from './tools.js';

const LABEL: LabelInput = {
  unitId: '0192f3c4-7b1e-7cc2-9a51-3f0e2d4b8a10',
  serial: 'PSV-2026-000123',
  dealerCode: 'FR-75012-0042',
  site: 'Concession Lyon-Sud – Vénissieux, bâtiment B',
  imageVersion: '2026.01.2',
  producedAt: '2026-01-15T10:20:30+01:00',
};

const noRaster = await toolsMissing('pdftoppm', 'zbarimg');
const noText = await toolsMissing('pdftotext');

const MM = 72 / 25.4;

t.test('one 62 x 100 mm page, deterministic bytes', async (t) => {
  const pdf = await renderLabelPdf(LABEL);
  t.equal(Buffer.from(pdf.subarray(0, 5)).toString('latin1'), '%PDF-');
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  t.equal(doc.getPageCount(), 1);
  const { width, height } = doc.getPage(0).getSize();
  t.ok(Math.abs(width - LABEL_WIDTH_MM * MM) < 0.01 && Math.abs(height - LABEL_HEIGHT_MM * MM) < 0.01, `${width} x ${height} pt`);
  t.equal(doc.getTitle(), 'plugsrv label PSV-2026-000123');
  t.equal(doc.getCreationDate()?.toISOString(), '2026-01-15T09:20:30.000Z', 'dated by production, not by the clock');
  t.same(Buffer.from(await renderLabelPdf(LABEL)), Buffer.from(pdf), 'same input, same bytes');
});

t.test('the production day is taken as written; a non-date is refused', async (t) => {
  t.equal(labelDay('2026-01-15T23:59:59-05:00'), '2026-01-15', 'no time-zone shift to another day');
  t.equal(labelDay('2026-01-15'), '2026-01-15');
  for (const bad of ['', 'yesterday', '15/01/2026', '2026-13-45T00:00:00Z']) t.throws(() => labelDay(bad), { code: 'E_INTERNAL' }, bad);
  await t.rejects(renderLabelPdf({ ...LABEL, producedAt: 'soon' }), { code: 'E_INTERNAL' });
  await t.rejects(renderLabelPdf({ ...LABEL, serial: '' }), { code: 'E_INTERNAL' });
});

t.test('text outside WinAnsi, empty or huge fields do not break the rendering', async (t) => {
  const odd = await renderLabelPdf({ ...LABEL, site: '東京 🚗 👨‍👩‍👧 Москва\nsecond line', dealerCode: '', imageVersion: 'x'.repeat(300), serial: 'S'.repeat(200) });
  t.ok(odd.length > 1000);
});

t.test('writeLabel: <dir>/<unitId>-label.pdf, the rendered bytes, no temp file left, folders created', async (t) => {
  const dir = join(await tempDir(t), 'labels', 'batch-1');
  const path = await writeLabel(dir, LABEL);
  t.equal(path, join(dir, '0192f3c4-7b1e-7cc2-9a51-3f0e2d4b8a10-label.pdf'));
  t.same(await readFile(path), Buffer.from(await renderLabelPdf(LABEL)));
  t.same(await readdir(dir), ['0192f3c4-7b1e-7cc2-9a51-3f0e2d4b8a10-label.pdf']);
  t.equal((await stat(path)).mode & 0o777, 0o644);
  for (const unitId of ['../escape', '.hidden', 'a/b', '', 'a..b']) {
    await t.rejects(writeLabel(dir, { ...LABEL, unitId }), { code: 'E_INTERNAL', message: /cannot be used in a file name/ }, unitId);
  }
});

t.test('writeLabel where a file stands in for the folder: E_CONFIG naming the path', async (t) => {
  const dir = await tempDir(t);
  const blocker = join(dir, 'blocker');
  await writeFile(blocker, 'not a folder');
  for (const out of [blocker, join(blocker, 'sub')]) {
    await t.rejects(writeLabel(out, LABEL), { name: 'LineError', code: 'E_CONFIG', message: /check that the output folder is a writable folder/ }, out);
  }
});

/** Rasterises the label at 300 dpi and decodes its QR code with zbarimg. */
async function scan(t: { teardown(fn: () => unknown): void }, label: LabelInput): Promise<{ decoded: string; png: Buffer }> {
  const dir = await tempDir(t);
  const path = await writeLabel(dir, label);
  await run('pdftoppm', ['-png', '-r', '300', '-singlefile', path, join(dir, 'page')]);
  const decoded = (await run('zbarimg', ['--raw', '-q', join(dir, 'page.png')])).toString('utf8');
  return { decoded, png: await readFile(join(dir, 'page.png')) };
}

t.test('pdftoppm + zbarimg: the QR code reads back as labelQrText and parses to the unit', noRaster ? { skip: noRaster } : {}, async (t) => {
  const { decoded, png } = await scan(t, LABEL);
  // 62 x 100 mm at 300 dpi (732.3 x 1181.1 px; pdftoppm rounds up).
  t.ok(Math.abs(png.readUInt32BE(16) - (62 / 25.4) * 300) <= 1, `width ${png.readUInt32BE(16)} px`);
  t.ok(Math.abs(png.readUInt32BE(20) - (100 / 25.4) * 300) <= 1, `height ${png.readUInt32BE(20)} px`);
  const lines = decoded.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, 'exactly one code on the label');
  t.equal(lines[0], labelQrText(LABEL));
  t.same(parseLabelQrText(decoded), { unitId: LABEL.unitId, serial: LABEL.serial }, 'the line parses what the scanner typed');
});

t.test('pdftoppm + zbarimg: awkward values (separators, accents, a long serial) still round-trip', noRaster ? { skip: noRaster } : {}, async (t) => {
  const awkward = { ...LABEL, unitId: 'unit_2026.01-000042', serial: 'SN;1:é%/ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789' };
  const { decoded } = await scan(t, awkward);
  t.equal(decoded.trim(), labelQrText(awkward));
  t.same(parseLabelQrText(decoded), { unitId: awkward.unitId, serial: awkward.serial });
});

t.test('pdftoppm + zbarimg: with every text row at its longest, the QR code still has its room and decodes', noRaster ? { skip: noRaster } : {}, async (t) => {
  const huge = { ...LABEL, unitId: 'u'.repeat(128), serial: 'W'.repeat(120), dealerCode: 'W'.repeat(80), site: 'Wide '.repeat(60), imageVersion: 'W'.repeat(100) };
  const { decoded } = await scan(t, huge);
  t.equal(decoded.trim(), labelQrText(huge));
});

t.test('pdftotext: every line is on the label, accents kept, "?" for what Helvetica cannot draw, long site cut', noText ? { skip: noText } : {}, async (t) => {
  const dir = await tempDir(t);
  const long = 'Concession Lyon-Sud – Vénissieux 東京 🚗, bâtiment B, zone industrielle des Marches du Rhône, allée des Mûriers, porte 12';
  const path = await writeLabel(dir, { ...LABEL, site: long });
  const layout = (await run('pdftotext', ['-layout', '-enc', 'UTF-8', path, '-'])).toString('utf8');
  const text = layout.replace(/\s+/g, ' ');
  for (const expected of ['plugsrv', 'PSV-2026-000123', '0192f3c4-7b1e-7cc2-9a51-3f0e2d4b8a10', 'FR-75012-0042', 'Vénissieux ?? ?,', '2026.01.2', '2026-01-15']) {
    t.ok(text.includes(expected), `"${expected}" in:\n${layout}`);
  }
  for (const caption of ['S/N', 'Unit', 'Dealer', 'Site', 'Image', 'Date']) t.match(text, new RegExp(`\\b${caption.replace('/', '\\/')}\\b`));
  t.ok(text.includes('…'), 'the site is cut with an ellipsis');
  t.notOk(text.includes('porte 12'), 'the end of a very long site does not fit in 3 lines');
});
