// Public surface of the import command's logic.
export { importPackages, type ImportResult, type ImportProgress } from './import.js';
export { parseManifest, itemsFromFlags, type ImportItem, type ImportFlags } from './manifest.js';
