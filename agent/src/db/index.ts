// Public surface of the state DB module.
export { openStateDb, migrationsFolder, type AgentDb, type StateDb } from './open.js';
export * as tables from './schema.js';
