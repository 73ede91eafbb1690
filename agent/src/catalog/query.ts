// Parses and applies the /v1/packages filters (headUnit, model, kind, vin): pure functions, no I/O.
import { AgentError, ErrorCode } from '../errors.js';
import { PACKAGE_KINDS, type Package, type PackageKind } from './package.js';
import { parseVin } from './vin.js';
import type { VinTable } from './vin-table.js';

export interface PackageFilter {
  headUnit?: string;
  /** The package must target at least one of these models. */
  models?: readonly string[];
  kind?: PackageKind;
}

const KNOWN_PARAMS = new Set(['headUnit', 'model', 'kind', 'vin']);

/** Turns query parameters into a filter; an unknown parameter, a bad kind or a bad VIN is a 400 with the reason. */
export function parsePackageQuery(params: URLSearchParams, vinTable: VinTable): PackageFilter {
  for (const key of new Set(params.keys())) {
    if (!KNOWN_PARAMS.has(key)) throw new AgentError(ErrorCode.BAD_REQUEST, `unknown query parameter "${key}"; use headUnit, model, kind or vin.`);
    if (params.getAll(key).length > 1) throw new AgentError(ErrorCode.BAD_REQUEST, `query parameter "${key}" is given more than once; give it once.`);
  }
  const filter: PackageFilter = {};
  const headUnit = params.get('headUnit');
  if (headUnit !== null) filter.headUnit = headUnit;
  const kind = params.get('kind');
  if (kind !== null) {
    if (!(PACKAGE_KINDS as readonly string[]).includes(kind)) throw new AgentError(ErrorCode.BAD_REQUEST, `kind must be "soft" or "map", not "${kind}".`);
    filter.kind = kind as PackageKind;
  }
  const model = params.get('model');
  const vin = params.get('vin');
  if (model !== null && vin !== null) throw new AgentError(ErrorCode.BAD_REQUEST, 'give either model or vin, not both.');
  if (model !== null) filter.models = [model.toUpperCase()];
  if (vin !== null) {
    const parsed = parseVin(vin, vinTable.checkDigitWmis);
    if (!parsed.ok) throw new AgentError(ErrorCode.BAD_VIN, `invalid VIN "${vin.slice(0, 40)}": ${parsed.reason}.`);
    const models = vinTable.modelsFor(parsed.value.vin);
    if (models.length === 0) {
      throw new AgentError(ErrorCode.NOT_FOUND, `no vehicle line is known for VIN ${parsed.value.vin} (prefix ${parsed.value.vin.slice(0, 6)}); check the VIN or query by model instead.`);
    }
    filter.models = models;
  }
  return filter;
}

export function matchesFilter(p: Package, f: PackageFilter): boolean {
  if (f.kind !== undefined && p.kind !== f.kind) return false;
  if (f.headUnit !== undefined && p.headUnit.toUpperCase() !== f.headUnit.toUpperCase()) return false;
  if (f.models !== undefined && !p.models.some((m) => f.models?.includes(m))) return false;
  return true;
}
