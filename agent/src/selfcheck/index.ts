// Public surface of the self-check role.
export { runSelfcheck, exitCodeOfReport, type SelfcheckPlan, type SelfcheckEnv, type SelfcheckReport } from './run.js';
export { planFromConfig, parseOnly } from './plan.js';
export { formatReport, type Lang } from './report.js';
export { recordRun, latestRuns, statusSummary, type SelfcheckTrigger, type StoredRun } from './history.js';
export { loadFlows, parseFlows, httpsTargets, DEFAULT_FLOWS_FILE, type Flow } from './flows.js';
export { PROBE_KINDS, worst, type ProbeResult, type ProbeKind, type CheckStatus } from './probe.js';
export { SelfcheckScheduler } from './scheduler.js';
