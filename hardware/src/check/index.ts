// The compliance check (pure) and its text form.
export { checkInventory, identifyProfiles, matchesProfile, pickNic, type CheckItem, type CheckOptions, type CheckReport, type ItemStatus } from './check.js';
export { formatCheckReport } from './format.js';
