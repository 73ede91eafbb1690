export * from './burnin.js';
export * from './context.js';
export * from './flash.js';
export * from './label.js';
export * from './personalise.js';
export * from './register.js';
export * from './replace.js';
export * from './run.js';
