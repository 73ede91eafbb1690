// The dealer letter that goes with each unit: set-up steps and the unit's temporary console password (printed here
// only), in French or English, as self-contained HTML and plain text; and the password generator.
// Pure: render, messages, password.
export { renderDealerLetter, escapeHtml, oneLine, wrapText, type LetterInput, type RenderedLetter } from './render.js';
export { formatLetterDate, type LetterLang } from './messages.js';
export { writeLetter, letterPath, LETTER_FILE_MODE, type LetterFormat } from './files.js';
export {
  generateTemporaryPassword,
  PASSWORD_ALPHABET,
  PASSWORD_LENGTH,
  PASSWORD_PATTERN,
  PASSWORD_GROUPS,
  PASSWORD_GROUP_LENGTH,
  PASSWORD_RANDOM_CHARS,
} from './password.js';
