// Public surface of the serve role.
export { createServeServer, contentDisposition, MAX_URL_LENGTH, type ServeDeps } from './server.js';
export { createServeMetrics, type ServeMetrics } from './metrics.js';
export { parseRange, type RangeDecision } from './range.js';
export { evaluatePreconditions, ifRangeAllows } from './conditional.js';
export { startServeRole, type RunningServer } from './start.js';
