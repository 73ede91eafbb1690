export * from './csv.js';
export * from './repository.js';
