import { totalmem } from "node:os";
import type { Logger } from "../logger.js";
import type { ChildEntry } from "./child-entry.js";
import { checkModelFileWithGguf } from "./file-check.js";

/** A local model as the runner serves it (the manifest, resolved). */
export interface RunnerModelSpec {
  /** The manifest id, e.g. `tiny-demo`; the router's target is `local/<id>`. */
  id: string;
  /** The GGUF file; resolved to an absolute path. */
  path: string;
  /** Lower-case hex; verified before the first load when given. */
  sha256?: string;
  /** Compared with the file before hashing, when given. */
  sizeBytes?: number;
  contextTokens: number;
  /** Generations in parallel (context sequences). */
  sequences: number;
  /** Requests that may wait beyond `sequences`; more are turned away with 503. */
  maxQueue: number;
  /** Compute threads; the supervisor's `threads` when absent. */
  threads?: number;
  batchSize?: number;
  gpuLayers?: number | "max";
  /** A node-llama-cpp chat wrapper name (`chatML`) or a Jinja template; the file's own when absent. */
  chatTemplate?: string;
  /** What the model costs resident (weights plus context), for the memory budget. */
  memoryMb: number;
  /** Load when the runner starts (and again after a restart) instead of on first use. */
  loadAtStart: boolean;
}

/** `checkGguf` from host/models: the problems that would make llama.cpp refuse or abort on the file. */
export type ModelFileCheck = (
  path: string,
  options: { expectedSha256?: string; expectedSizeBytes?: number },
) => Promise<readonly string[]> | readonly string[];

export interface RunnerSupervisorOptions {
  models: readonly RunnerModelSpec[];
  /** Default compute threads per model. Always explicit: llama.cpp's default starved a 2-core box. */
  threads: number;
  /** CPU only (false, the default) or the best GPU the prebuilt binaries find ("auto"). */
  gpu?: false | "auto";
  /** Resident models' memoryMb may add up to this; least recently used idle models are unloaded. */
  memoryBudgetMb?: number;
  /**
   * Runs before the first load of a file (and again when the file changes); a problem refuses the
   * model in the gateway. The GGUF header check with size and SHA-256 (file-check.ts) by default.
   */
  checkModelFile?: ModelFileCheck;
  logger: Logger;
  /** First restart delay; doubles per crash up to restartMaxMs, reset after stableAfterMs of uptime. */
  restartMinMs?: number;
  restartMaxMs?: number;
  stableAfterMs?: number;
  /** Consecutive starts that die before ready, after which the runner is marked failed. */
  maxStartFailures?: number;
  /** Until the child answers `ready` (node start plus loading llama.cpp's binary). */
  startTimeoutMs?: number;
  loadTimeoutMs?: number;
  /** How long a request waits for a starting or restarting runner before it fails over. */
  waitForRunnerMs?: number;
  /** Time the child gets to exit on close before it is killed. */
  stopGraceMs?: number;
  /** Overrides the child's entry (tests). */
  childEntry?: ChildEntry;
}

export type ResolvedSupervisorOptions = Required<Omit<RunnerSupervisorOptions, "childEntry">> & {
  childEntry: ChildEntry | undefined;
};

/** Three quarters of the device's memory: the rest is the system's, the gateway's and the page cache's. */
export function defaultMemoryBudgetMb(): number {
  return Math.floor((totalmem() / 2 ** 20) * 0.75);
}

export function resolveSupervisorOptions(options: RunnerSupervisorOptions): ResolvedSupervisorOptions {
  const resolved: ResolvedSupervisorOptions = {
    gpu: false,
    memoryBudgetMb: defaultMemoryBudgetMb(),
    restartMinMs: 100,
    restartMaxMs: 30_000,
    stableAfterMs: 30_000,
    maxStartFailures: 5,
    startTimeoutMs: 30_000,
    loadTimeoutMs: 120_000,
    waitForRunnerMs: 5_000,
    stopGraceMs: 2_000,
    checkModelFile: checkModelFileWithGguf,
    ...stripUndefined(options),
    childEntry: options.childEntry,
  };
  if (!Number.isInteger(resolved.threads) || resolved.threads < 1) {
    throw new RangeError(`runner: threads must be a positive integer, got ${options.threads}`);
  }
  const ids = new Set<string>();
  for (const model of resolved.models) {
    if (ids.has(model.id)) throw new RangeError(`runner: model id ${model.id} appears twice`);
    ids.add(model.id);
    if (model.sequences < 1) throw new RangeError(`runner: model ${model.id} needs at least one sequence`);
  }
  return resolved;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
