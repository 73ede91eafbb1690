// The unit's box label: a 62 x 100 mm PDF with the unit's text and a QR code of its serial and unit id, and the
// QR text's format (written here, read back by the line's scanner). Pure: qr-text, winansi, fit.
export { renderLabelPdf, labelDay, LABEL_WIDTH_MM, LABEL_HEIGHT_MM, QR_QUIET_MODULES, type LabelInput } from './pdf.js';
export { writeLabel } from './files.js';
export { labelQrText, parseLabelQrText, LABEL_QR_TAG, type LabelQrContent } from './qr-text.js';
export { toWinAnsi, isWinAnsi } from './winansi.js';
export { truncateToWidth, wrapToWidth, fitFontSize, ELLIPSIS, type MeasureText } from './fit.js';
