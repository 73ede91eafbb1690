// Public surface of reports.
export { monthOf, parseMonthRange, activeUnitsCsv, type ActiveUnitsRow } from './active-units.js';
export { activeUnits } from './report.js';
