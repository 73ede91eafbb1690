// Operator scopes: read < operate < provision < admin; a key allows its scope and every one below it.
import type { Scope } from '../../../lib/fleet/protocol.js';

export const SCOPE_ORDER: readonly Scope[] = ['read', 'operate', 'provision', 'admin'];

export function scopeAllows(have: Scope, need: Scope): boolean {
  return SCOPE_ORDER.indexOf(have) >= SCOPE_ORDER.indexOf(need);
}
