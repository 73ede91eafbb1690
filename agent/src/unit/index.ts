export { parseUnitFile, readUnitFile, type UnitInfo } from './unit-file.js';
