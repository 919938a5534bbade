export { type ChildEntry, defaultChildEntry } from "./child-entry.js";
export type { GenerationEnd, RunnerListener, RunnerStatus } from "./events.js";
export { checkModelFileWithGguf } from "./file-check.js";
export type { Generation, GenerationDone, GenerationEvent, GenerationText } from "./generation.js";
export { registerRunnerMetrics } from "./metrics.js";
export type { ModelState, ModelStatus } from "./model-pool.js";
export {
  defaultMemoryBudgetMb,
  type ModelFileCheck,
  type RunnerModelSpec,
  type RunnerSupervisorOptions,
} from "./options.js";
export type { GenerateRequest, RunnerStats } from "./protocol.js";
export { type RunnerState, RunnerSupervisor } from "./supervisor.js";
