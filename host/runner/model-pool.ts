import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { Logger } from "../logger.js";
import { ProviderError } from "../providers/types.js";
import { runnerHttpError } from "./errors.js";
import type { RunnerEvents } from "./events.js";
import { planEvictions } from "./memory-budget.js";
import { ModelSlots } from "./model-slots.js";
import type { ModelFileCheck, RunnerModelSpec } from "./options.js";
import type { ChildMessage, LoadSpec, ParentMessage, WithoutId } from "./protocol.js";

export type ModelState = "unloaded" | "loading" | "loaded" | "unloading" | "refused" | "error";

export interface ModelStatus {
  id: string;
  state: ModelState;
  running: number;
  queued: number;
  memoryMb: number;
  loadMs?: number;
  tokensPerSecond?: number;
  /** Why the model is refused or failed to load, for /ready and the logs. */
  error?: string;
}

export interface ModelRuntime {
  spec: RunnerModelSpec;
  state: ModelState;
  slots: ModelSlots;
  lastUsedMs: number;
  loadMs?: number;
  tokensPerSecond?: number;
  error?: string;
  /** Loading or unloading in progress; others wait for it. */
  transition?: Promise<void>;
  /** The file as last checked: a changed file is checked again. */
  checkedFile?: string;
  retryLoadAtMs?: number;
  /** The child is loading it now: a runner death at this point is laid at this model's door. */
  loadingInChild: boolean;
  /** Times the runner died while loading this model. */
  loadCrashes: number;
}

export interface ModelPoolDeps {
  specs: readonly RunnerModelSpec[];
  threads: number;
  budgetMb: number;
  checkModelFile: ModelFileCheck;
  loadTimeoutMs: number;
  /** Sends a request to the child (assigning its id) and resolves with the answer. */
  call(message: WithoutId<ParentMessage>, timeoutMs: number): Promise<ChildMessage>;
  events: RunnerEvents;
  logger: Logger;
  nowMs(): number;
}

/** After a failed load, requests fail at once for this long instead of each retrying the load. */
const LOAD_RETRY_MS = 10_000;
/** A model that killed the runner this often while loading is not loaded again. */
const MAX_LOAD_CRASHES = 2;

/** The runner's models: what is loaded, file checks before loading, and the memory budget. */
export class ModelPool {
  private readonly models = new Map<string, ModelRuntime>();

  constructor(private readonly deps: ModelPoolDeps) {
    for (const spec of deps.specs) {
      this.models.set(spec.id, {
        spec: { ...spec, path: resolve(spec.path) },
        state: "unloaded",
        slots: new ModelSlots(spec.sequences, spec.maxQueue),
        lastUsedMs: 0,
        loadingInChild: false,
        loadCrashes: 0,
      });
    }
  }

  get(id: string): ModelRuntime | undefined {
    return this.models.get(id);
  }

  all(): ModelRuntime[] {
    return [...this.models.values()];
  }

  usedMb(): number {
    return this.all()
      .filter((m) => m.state === "loaded" || m.state === "loading" || m.state === "unloading")
      .reduce((sum, m) => sum + m.spec.memoryMb, 0);
  }

  statuses(): ModelStatus[] {
    return this.all().map((m) => ({
      id: m.spec.id,
      state: m.state,
      running: m.slots.running,
      queued: m.slots.queued,
      memoryMb: m.spec.memoryMb,
      ...(m.loadMs === undefined ? {} : { loadMs: m.loadMs }),
      ...(m.tokensPerSecond === undefined ? {} : { tokensPerSecond: m.tokensPerSecond }),
      ...(m.error === undefined ? {} : { error: m.error }),
    }));
  }

  /** Resolves once the model is loaded, loading it (and unloading others) when needed. */
  async ensureLoaded(model: ModelRuntime): Promise<void> {
    for (;;) {
      if (model.state === "loaded") return;
      if (model.transition) {
        await model.transition;
        continue;
      }
      if (model.state === "refused" && !(await this.fileChanged(model))) {
        throw runnerHttpError(503, model.error ?? `model ${model.spec.id} is refused`, "model_refused");
      }
      if (model.state === "error" && this.deps.nowMs() < (model.retryLoadAtMs ?? 0)) {
        throw runnerHttpError(
          503,
          model.error ?? `model ${model.spec.id} failed to load`,
          "model_load_failed",
        );
      }
      const transition = this.load(model);
      model.transition = transition.then(
        () => undefined,
        () => undefined,
      );
      try {
        await transition;
      } finally {
        model.transition = undefined;
      }
    }
  }

  async unload(model: ModelRuntime, reason: "lru" | "request"): Promise<void> {
    while (model.transition) await model.transition;
    if (model.state !== "loaded") return;
    model.state = "unloading";
    const transition = this.deps
      .call({ type: "unload", modelId: model.spec.id }, this.deps.loadTimeoutMs)
      .then(() => {
        model.state = "unloaded";
        this.deps.events.emit("modelUnloaded", model.spec.id, reason);
        this.deps.logger.info({ model: model.spec.id, reason }, "model unloaded");
      });
    model.transition = transition.catch(() => undefined);
    try {
      await transition;
    } finally {
      model.transition = undefined;
    }
  }

  /**
   * The runner died: nothing is resident any more. Returns the models that were loaded, to load
   * again once a new runner is up. A model that was loading counts a crash against itself.
   */
  onRunnerExit(exitDescription: string): string[] {
    const wasLoaded: string[] = [];
    for (const model of this.models.values()) {
      if (model.state === "loaded" || model.state === "unloading") wasLoaded.push(model.spec.id);
      if (model.state === "loading" && model.loadingInChild) {
        model.loadCrashes++;
        if (model.loadCrashes >= MAX_LOAD_CRASHES) {
          model.state = "refused";
          model.error = `model ${model.spec.id}: the runner died while loading it ${model.loadCrashes} times (${exitDescription}); not loaded again until its file changes`;
          this.deps.logger.error({ model: model.spec.id }, model.error);
          continue;
        }
      }
      if (model.state === "loaded" || model.state === "loading" || model.state === "unloading") {
        model.state = "unloaded";
        this.deps.events.emit("modelUnloaded", model.spec.id, "runner_exit");
      }
    }
    return wasLoaded;
  }

  private async load(model: ModelRuntime): Promise<void> {
    const { spec } = model;
    model.state = "loading";
    try {
      await this.checkFile(model);
      await this.makeRoom(model);
      const loadSpec: LoadSpec = {
        modelId: spec.id,
        path: spec.path,
        contextTokens: spec.contextTokens,
        sequences: spec.sequences,
        threads: spec.threads ?? this.deps.threads,
        ...(spec.batchSize === undefined ? {} : { batchSize: spec.batchSize }),
        ...(spec.gpuLayers === undefined ? {} : { gpuLayers: spec.gpuLayers }),
        ...(spec.chatTemplate === undefined ? {} : { chatTemplate: spec.chatTemplate }),
      };
      model.loadingInChild = true;
      const reply = await this.deps
        .call({ type: "load", spec: loadSpec }, this.deps.loadTimeoutMs)
        .finally(() => {
          model.loadingInChild = false;
        });
      if (reply.type === "error") {
        throw runnerHttpError(
          503,
          `model ${spec.id}: llama.cpp could not load it: ${reply.message}`,
          "model_load_failed",
        );
      }
      if (reply.type !== "loaded") throw new Error(`unexpected answer ${reply.type} to load`);
      model.state = "loaded";
      model.loadMs = reply.loadMs;
      model.error = undefined;
      model.loadCrashes = 0;
      this.deps.events.emit("modelLoaded", spec.id, reply.loadMs);
      this.deps.logger.info({ model: spec.id, loadMs: Math.round(reply.loadMs) }, "model loaded");
    } catch (error) {
      const failure = asProviderError(error, spec.id);
      // A refusal or a runner exit has already set the state (and the reason).
      if (model.state === "loading") {
        model.state = "error";
        model.error = failure.message;
        model.retryLoadAtMs = this.deps.nowMs() + LOAD_RETRY_MS;
        this.deps.logger.error({ model: spec.id, err: failure.message }, "model failed to load");
      }
      throw failure;
    }
  }

  /** Refuses, in the gateway, a file llama.cpp would refuse or abort on; verifies its sha256. */
  private async checkFile(model: ModelRuntime): Promise<void> {
    const { path, sha256, sizeBytes, id } = model.spec;
    const fingerprint = await fileFingerprint(path);
    if (fingerprint === MISSING) {
      model.checkedFile = MISSING;
      throw this.refuse(model, `model ${id}: model file ${path} does not exist`);
    }
    if (model.checkedFile === fingerprint) return;
    const problems = await this.deps.checkModelFile(path, {
      ...(sha256 === undefined ? {} : { expectedSha256: sha256 }),
      ...(sizeBytes === undefined ? {} : { expectedSizeBytes: sizeBytes }),
    });
    model.checkedFile = fingerprint;
    if (problems.length > 0) {
      throw this.refuse(
        model,
        `model ${id}: model file ${path} refused before loading: ${problems.join("; ")}`,
      );
    }
  }

  /** Marks the model refused until its file changes; the error names what is wrong. */
  private refuse(model: ModelRuntime, message: string): ProviderError {
    model.state = "refused";
    model.error = message;
    this.deps.logger.error({ model: model.spec.id }, message);
    return runnerHttpError(503, message, "model_refused");
  }

  private async fileChanged(model: ModelRuntime): Promise<boolean> {
    return (await fileFingerprint(model.spec.path)) !== model.checkedFile;
  }

  private async makeRoom(model: ModelRuntime): Promise<void> {
    const { spec } = model;
    const plan = planEvictions(
      this.all().map((m) => ({
        id: m.spec.id,
        memoryMb: m.spec.memoryMb,
        resident: m.state === "loaded" || m.state === "loading" || m.state === "unloading",
        busy: m.slots.running + m.slots.queued > 0,
        lastUsedMs: m.lastUsedMs,
      })),
      spec.id,
      spec.memoryMb,
      this.deps.budgetMb,
    );
    if (!plan.ok && plan.reason === "too_large") {
      throw this.refuse(
        model,
        `model ${spec.id}: refused, it needs ${spec.memoryMb} MB and the memory budget is ${this.deps.budgetMb} MB`,
      );
    }
    if (!plan.ok) {
      // Transient: the next request tries again once a busy model is idle.
      model.state = "unloaded";
      throw runnerHttpError(
        503,
        `model ${spec.id}: no room in the ${this.deps.budgetMb} MB memory budget while ${plan.busyIds.join(", ")} serve requests`,
        "memory_budget_full",
        1_000,
      );
    }
    for (const victim of plan.evict) {
      const other = this.models.get(victim);
      if (other) await this.unload(other, "lru");
    }
  }
}

const MISSING = "missing";

/** Size, mtime and inode: a replaced or rewritten file is checked (and hashed) again. */
async function fileFingerprint(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.size}:${s.mtimeMs}:${s.ino}`;
  } catch {
    return MISSING;
  }
}

function asProviderError(error: unknown, modelId: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return runnerHttpError(503, `model ${modelId}: load failed: ${reason}`, "model_load_failed");
}
