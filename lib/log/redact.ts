// Removes secrets from log fields before any sink sees them: logs must never carry tokens, keys or passwords.

const SECRET_KEY = /(pass(word|wd)?|secret|token|authori[sz]ation|cookie|private.?key|api.?key|credential|^key$)/i;
export const REDACTED = '[redacted]';

export type LogFields = Record<string, unknown>;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Returns a copy of `fields` where every value under a secret-looking key is replaced, at any depth. */
export function redact(fields: LogFields, depth = 0): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (isSecretKey(key)) out[key] = REDACTED;
    else out[key] = redactValue(value, depth);
  }
  return out;
}

function redactValue(value: unknown, depth: number): unknown {
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  return redact(value as LogFields, depth + 1);
}
