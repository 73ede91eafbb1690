// Public surface of the fleet's DB module.
export { openFleetDb, migrationsFolder, type FleetDb, type StateDb } from './open.js';
export { WriteQueue, statement } from './write-queue.js';
export * as tables from './schema.js';
