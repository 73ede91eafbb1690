// The burn-in suite: levels, the orchestrator, threshold evaluation, tool output parsers, reports.
export { countSteps, describeMeasure, formatThreshold, formatValue, judge, measure, statusFromMeasures, verdictOf } from './evaluate.js';
export { formatBurninReport } from './format.js';
export { barChart, esc, lineChart, niceTicks, renderBurninHtml } from './html.js';
export { LEVEL_SPECS, levelSpec, memoryBytes, type LevelSpec } from './levels.js';
export * from './parse.js';
export { defaultSearchPath, findTool, killGroup, missingToolMessage, requireTool, runTool, sleep, tail, TOOL_PACKAGES, type RunToolOptions, type ToolRun } from './proc.js';
export { BURNIN_DIR_NAME, readLatestBurninSummary, summarizeBurnin, writeBurninReport, type BurninSummary } from './report.js';
export { parseServer, parseStepList, runBurnin, STEPS, timeLimitSeconds, type BurninOptions } from './run.js';
export { readCpuMhz, readTemperatures, readThrottleCount } from './sensors.js';
export * from './tpm-proto.js';
export * from './types.js';
