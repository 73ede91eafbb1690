// VIN validation per ISO 3779 (17 characters, no I/O/Q) with the position-9 check digit where it applies.

const ALLOWED = /^[A-HJ-NPR-Z0-9]{17}$/;
const TRANSLITERATION: Record<string, number> = {
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8,
  J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9,
  S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9,
};
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

export interface Vin {
  readonly vin: string;
  /** World manufacturer identifier (positions 1-3). */
  readonly wmi: string;
  /** Vehicle descriptor section (positions 4-9). */
  readonly vds: string;
  /** Vehicle identifier section (positions 10-17). */
  readonly vis: string;
  /** Whether position 9 is a check digit that was verified. */
  readonly checkDigitVerified: boolean;
}

export type VinResult = { ok: true; value: Vin } | { ok: false; reason: string };

/** The check digit the VIN's other 16 characters call for ('0'-'9' or 'X'). */
export function computeCheckDigit(vin: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const c = vin[i] as string;
    const value = c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : (TRANSLITERATION[c] ?? 0);
    sum += value * (WEIGHTS[i] as number);
  }
  const rem = sum % 11;
  return rem === 10 ? 'X' : String(rem);
}

/**
 * The check digit is mandatory for vehicles made for North America (WMI starting 1-5) and for
 * manufacturers the VIN table marks; European makers such as Renault (VF1) do not use it.
 */
export function checkDigitApplies(vin: string, forcedWmis: ReadonlySet<string> = new Set()): boolean {
  return /^[1-5]/.test(vin) || forcedWmis.has(vin.slice(0, 3));
}

export function parseVin(input: string, forcedWmis?: ReadonlySet<string>): VinResult {
  const vin = input.trim().toUpperCase();
  if (vin.length !== 17) return { ok: false, reason: `a VIN has 17 characters, this one has ${vin.length}` };
  if (!ALLOWED.test(vin)) {
    const bad = [...vin].find((c) => !/[A-HJ-NPR-Z0-9]/.test(c));
    const why = bad && /[IOQ]/.test(bad) ? ` (I, O and Q are never used in a VIN, to avoid confusion with 1 and 0)` : '';
    return { ok: false, reason: `character "${bad}" is not allowed in a VIN${why}` };
  }
  const applies = checkDigitApplies(vin, forcedWmis);
  if (applies) {
    const expected = computeCheckDigit(vin);
    if (vin[8] !== expected) {
      return { ok: false, reason: `check digit (position 9) is "${vin[8]}" but the other characters call for "${expected}"; the VIN was probably mistyped` };
    }
  }
  return { ok: true, value: { vin, wmi: vin.slice(0, 3), vds: vin.slice(3, 9), vis: vin.slice(9), checkDigitVerified: applies } };
}
