export * from './content.js';
export * from './gpt.js';
export * from './write.js';
