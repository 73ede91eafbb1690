// Public surface of the logging module.
export * from './logger.js';
export { redact, REDACTED, type LogFields } from './redact.js';
export { encodeJournalEntry, journalFieldName, JOURNAL_SOCKET } from './journald.js';
