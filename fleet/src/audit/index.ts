// Public surface of the audit log.
export { AuditLog, type AuditEntry, type AuditRecord, type AuditOutcome, type AuditQuery } from './audit.js';
