export * from './export.js';
export * from './identity.js';
export * from './repository.js';
