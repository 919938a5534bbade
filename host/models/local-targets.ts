/**
 * Local models (manifests) as router targets served by the model runner. The gateway builds the
 * supervisor from the manifests, then one llama-cpp provider and one Target per manifest, shaped like
 * host/routing/targets.ts's so the lead concatenates them with the HTTP targets.
 */
import { CAPABILITIES, TASK_CLASSES } from "../config/targets.js";
import { TargetKind } from "../core/index.js";
import type { Logger } from "../logger.js";
import { createLlamaCppProvider } from "../providers/llama-cpp/index.js";
import type { Target } from "../routing/targets.js";
import {
  defaultMemoryBudgetMb,
  type RunnerModelSpec,
  type RunnerSupervisorOptions,
} from "../runner/options.js";
import { RunnerSupervisor } from "../runner/supervisor.js";
import { defaultThreads, type LoadedManifest } from "./manifest.js";

export interface LocalModelOptions {
  /** Requests that may wait for a model beyond its sequences; more are turned away (503). */
  queuePerModel?: number;
  /**
   * Which models load when the runner starts: "all" (in manifest order, as many as the memory budget
   * holds), "none" (each on first use), or a list of manifest ids.
   */
  loadAtStart?: "all" | "none" | readonly string[];
  /** Overrides every manifest's thread count (one setting for the device). */
  threads?: number;
  /** The supervisor's memory budget, to decide what "all" can load at start. */
  memoryBudgetMb?: number;
}

/** The runner's view of the manifests. */
export function runnerModelSpecs(
  manifests: readonly LoadedManifest[],
  {
    queuePerModel = 4,
    loadAtStart = "all",
    threads,
    memoryBudgetMb = Number.POSITIVE_INFINITY,
  }: LocalModelOptions = {},
): RunnerModelSpec[] {
  let budgetLeftMb = memoryBudgetMb;
  return manifests.map((m) => {
    let atStart = loadAtStart === "all" || (Array.isArray(loadAtStart) && loadAtStart.includes(m.id));
    // Loading more than fits at start would only unload the first ones again.
    if (atStart && loadAtStart === "all") {
      atStart = m.memoryMb <= budgetLeftMb;
      if (atStart) budgetLeftMb -= m.memoryMb;
    }
    return {
      id: m.id,
      path: m.filePath,
      ...(m.sha256 === undefined ? {} : { sha256: m.sha256 }),
      ...(m.sizeBytes === undefined ? {} : { sizeBytes: m.sizeBytes }),
      contextTokens: m.contextSize,
      sequences: m.sequences,
      maxQueue: queuePerModel,
      threads: threads ?? m.threads,
      batchSize: m.batchSize,
      gpuLayers: m.gpuLayers,
      ...(m.chatTemplate === undefined ? {} : { chatTemplate: m.chatTemplate }),
      memoryMb: m.memoryMb,
      loadAtStart: atStart,
    };
  });
}

export interface LocalModelTargets {
  /** One per manifest, indices from `firstIndex` on, `loaded` false until the runner says so. */
  targets: Target[];
  /** Each manifest alias -> its target id, for the router's alias table. */
  aliases: Record<string, string>;
}

export interface CreateLocalModelTargetsOptions {
  manifests: readonly LoadedManifest[];
  supervisor: RunnerSupervisor;
  /** The core index of the first local model (the targets before it keep theirs). */
  firstIndex?: number;
  queuePerModel?: number;
  /** Until the first token (queue wait and loading included). */
  firstTokenTimeoutMs?: number;
  totalTimeoutMs?: number;
}

export function createLocalModelTargets({
  manifests,
  supervisor,
  firstIndex = 0,
  queuePerModel = 4,
  firstTokenTimeoutMs,
  totalTimeoutMs,
}: CreateLocalModelTargetsOptions): LocalModelTargets {
  const aliases: Record<string, string> = {};
  const targets = manifests.map((m, i): Target => {
    const id = `local/${m.id}`;
    for (const alias of m.aliases) aliases[alias] = id;
    return {
      index: firstIndex + i,
      id,
      kind: "local",
      provider: createLlamaCppProvider({
        name: id,
        supervisor,
        model: m.id,
        ...(firstTokenTimeoutMs === undefined ? {} : { firstTokenTimeoutMs }),
        ...(totalTimeoutMs === undefined ? {} : { totalTimeoutMs }),
      }),
      models: { "chat/completions": m.id },
      spec: {
        kind: TargetKind.Local,
        contextTokens: m.contextSize,
        // JSON mode and JSON schemas through grammars; no tools, vision or embeddings.
        capabilities: CAPABILITIES.json,
        taskMask: m.taskClasses.reduce((mask, name) => mask | (1 << TASK_CLASSES.indexOf(name)), 0),
        memoryMb: m.memoryMb,
        maxInflight: m.sequences + queuePerModel,
        loaded: false,
      },
    };
  });
  return { targets, aliases };
}

export interface LoadedStateSink {
  /** `core.setLoaded(target.index, loaded)`. */
  setLoaded(index: number, loaded: boolean): void;
  /** `core.setMemoryFreeMb(mb)`: what the router may assume it can still load. */
  setMemoryFreeMb?(mb: number): void;
}

/**
 * Keeps the policy core's view in step with the runner: a target is `loaded` while its model is, and
 * the free memory follows loads and unloads. Returns a function that stops it.
 */
export function syncLoadedState(
  supervisor: RunnerSupervisor,
  targets: readonly Target[],
  sink: LoadedStateSink,
): () => void {
  const indexOf = new Map(targets.map((t) => [t.id, t.index]));
  const update = (modelId: string, loaded: boolean) => {
    const index = indexOf.get(`local/${modelId}`);
    if (index !== undefined) sink.setLoaded(index, loaded);
    sink.setMemoryFreeMb?.(supervisor.memoryFreeMb());
  };
  for (const m of supervisor.state().models) update(m.id, m.state === "loaded");
  return supervisor.addListener({
    modelLoaded: (modelId) => update(modelId, true),
    modelUnloaded: (modelId) => update(modelId, false),
  });
}

export interface CreateLocalModelsOptions extends LocalModelOptions {
  manifests: readonly LoadedManifest[];
  logger: Logger;
  /** CPU only (false, default) or "auto" for the best GPU the prebuilt binaries find. */
  gpu?: false | "auto";
  firstIndex?: number;
  firstTokenTimeoutMs?: number;
  totalTimeoutMs?: number;
  /** Restart backoff, timeouts and the like; see RunnerSupervisorOptions. */
  supervisor?: Partial<Omit<RunnerSupervisorOptions, "models" | "logger">>;
}

/**
 * Everything the gateway needs for its local models in one call: the supervisor (not yet started:
 * call `start()` after listening, or await it first) and the targets and aliases for the router.
 */
export function createLocalModels({
  manifests,
  logger,
  gpu = false,
  firstIndex,
  firstTokenTimeoutMs,
  totalTimeoutMs,
  supervisor: supervisorOptions = {},
  memoryBudgetMb = defaultMemoryBudgetMb(),
  ...local
}: CreateLocalModelsOptions): { supervisor: RunnerSupervisor } & LocalModelTargets {
  const supervisor = new RunnerSupervisor({
    threads: local.threads ?? defaultThreads(),
    gpu,
    ...supervisorOptions,
    memoryBudgetMb,
    models: runnerModelSpecs(manifests, { ...local, memoryBudgetMb }),
    logger,
  });
  const { targets, aliases } = createLocalModelTargets({
    manifests,
    supervisor,
    ...(firstIndex === undefined ? {} : { firstIndex }),
    ...(local.queuePerModel === undefined ? {} : { queuePerModel: local.queuePerModel }),
    ...(firstTokenTimeoutMs === undefined ? {} : { firstTokenTimeoutMs }),
    ...(totalTimeoutMs === undefined ? {} : { totalTimeoutMs }),
  });
  return { supervisor, targets, aliases };
}
