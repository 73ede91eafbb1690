// Public surface of the command queue.
export {
  COMMAND_SCOPE,
  DIRECT_KINDS,
  parseKind,
  parseArgs,
  commandTtlMs,
  newCommandId,
  buildPayload,
  nextState,
  isFinal,
  isPending,
  shouldSend,
  type CommandState,
  type CommandEvent,
  type ResultStatus,
} from './model.js';
export { loadCommandKey, commandKeyFile, type CommandKey } from './command-key.js';
export { CommandService, type CommandRecord, type CommandTarget, type CreateCommand, type OutgoingCommand, type Delivery, type ResultEffects } from './service.js';
