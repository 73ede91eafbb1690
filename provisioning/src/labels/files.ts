// Writing the label file through the line's document helpers (../output.ts).
import { join } from 'node:path';
import { fileSafeUnitId, writeOutput } from '../output.js';
import { renderLabelPdf, type LabelInput } from './pdf.js';

/** Renders the unit's label and writes it durably to `<dir>/<unitId>-label.pdf`; returns that path. */
export async function writeLabel(dir: string, label: LabelInput): Promise<string> {
  const path = join(dir, `${fileSafeUnitId(label.unitId)}-label.pdf`);
  const pdf = await renderLabelPdf(label);
  await writeOutput(path, Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength), 0o644, 'label');
  return path;
}
