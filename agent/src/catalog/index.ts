// Public surface of the catalog module: packages, their queries, VINs.
export * from './package.js';
export { parsePackageQuery, matchesFilter, type PackageFilter } from './query.js';
export { PackageRepository } from './repository.js';
export { parseVin, computeCheckDigit, checkDigitApplies, type Vin, type VinResult } from './vin.js';
export { loadVinTable, vinTableFrom, DEFAULT_VIN_TABLE_FILE, type VinTable } from './vin-table.js';
