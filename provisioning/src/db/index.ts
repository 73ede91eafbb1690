export * from './open.js';
export * from './schema.js';
