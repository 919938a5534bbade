import { performance } from "node:perf_hooks";
import { ProviderError } from "../providers/types.js";
import { defaultChildEntry } from "./child-entry.js";
import { runnerHttpError } from "./errors.js";
import { RunnerEvents, type RunnerListener, type RunnerStatus } from "./events.js";
import type { Generation } from "./generation.js";
import { ModelPool, type ModelStatus } from "./model-pool.js";
import { SlotRefusedError } from "./model-slots.js";
import {
  type ResolvedSupervisorOptions,
  type RunnerSupervisorOptions,
  resolveSupervisorOptions,
} from "./options.js";
import { abortedError, PendingRequests } from "./pending-requests.js";
import type { ChildMessage, GenerateRequest, RunnerStats } from "./protocol.js";
import { type ChildExit, describeExit, RunnerFatalError, RunnerProcess } from "./runner-process.js";

export interface RunnerState {
  status: RunnerStatus;
  /** True when the runner answers and requests are served. */
  ready: boolean;
  pid?: number;
  restarts: number;
  /** How the last runner ended, e.g. `signal SIGKILL`. */
  lastExit?: string;
  /** From the last crash to the new runner serving the models it had loaded. */
  lastRecoveryMs?: number;
  /** Why the runner is `failed`. */
  failure?: string;
  memoryBudgetMb: number;
  memoryUsedMb: number;
  models: ModelStatus[];
}

/**
 * Runs node-llama-cpp in a child process and keeps it running: restarts it with backoff when it
 * dies, fails the requests it was serving (so the router falls back), admits requests per model up to
 * its sequences plus a bounded queue, and loads models at start or on first use within a memory
 * budget. The gateway process never loads llama.cpp itself.
 */
export class RunnerSupervisor {
  private readonly o: ResolvedSupervisorOptions;
  private readonly events: RunnerEvents;
  private readonly pool: ModelPool;
  private readonly pending: PendingRequests;
  private process: RunnerProcess | undefined;
  private status: RunnerStatus = "stopped";
  private statusWaiters = new Set<() => void>();
  private restarts = 0;
  private crashStreak = 0;
  private startFailures = 0;
  private upSinceMs = 0;
  private exitAtMs: number | undefined;
  private lastExit: string | undefined;
  private lastRecoveryMs: number | undefined;
  private failure: string | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  private closing = false;
  /** Models the last runner had loaded: the next one loads them again. */
  private reloadAfterRestart: string[] = [];

  constructor(options: RunnerSupervisorOptions) {
    this.o = resolveSupervisorOptions(options);
    this.events = new RunnerEvents((error) =>
      this.o.logger.error({ err: error }, "runner listener threw; ignored"),
    );
    this.pending = new PendingRequests((message) => this.process?.send(message) ?? false, this.events);
    this.pool = new ModelPool({
      specs: this.o.models,
      threads: this.o.threads,
      budgetMb: this.o.memoryBudgetMb,
      checkModelFile: this.o.checkModelFile,
      loadTimeoutMs: this.o.loadTimeoutMs,
      call: (message, timeoutMs) => this.pending.call(message, timeoutMs),
      events: this.events,
      logger: this.o.logger,
      nowMs: () => performance.now(),
    });
  }

  /**
   * Starts the runner and loads the `loadAtStart` models. Resolves once the runner is ready and those
   * loads have settled (a model that fails to load is reported in state(), not thrown); rejects only
   * when the runner cannot start at all.
   */
  start(): Promise<void> {
    this.started ??= (async () => {
      this.spawn();
      await this.waitForStatus(Number.POSITIVE_INFINITY);
      if (this.status !== "ready") throw new Error(`model runner failed to start: ${this.failure}`);
      await this.loadAtStart([]);
    })();
    return this.started;
  }

  addListener(listener: RunnerListener): () => void {
    return this.events.add(listener);
  }

  state(): RunnerState {
    return {
      status: this.status,
      ready: this.status === "ready",
      ...(this.process?.pid === undefined ? {} : { pid: this.process.pid }),
      restarts: this.restarts,
      ...(this.lastExit === undefined ? {} : { lastExit: this.lastExit }),
      ...(this.lastRecoveryMs === undefined ? {} : { lastRecoveryMs: this.lastRecoveryMs }),
      ...(this.failure === undefined ? {} : { failure: this.failure }),
      memoryBudgetMb: this.o.memoryBudgetMb,
      memoryUsedMb: this.pool.usedMb(),
      models: this.pool.statuses(),
    };
  }

  /** What the policy core should assume is free for loading another model. */
  memoryFreeMb(): number {
    return Math.max(0, this.o.memoryBudgetMb - this.pool.usedMb());
  }

  /**
   * Starts a generation once a sequence is free and the model is loaded. Rejects with a ProviderError
   * the router understands: http 503 when the queue is full or the model cannot be loaded, connect
   * when the runner is down, aborted when `signal` fires first, 400 for the client's mistakes.
   */
  async generate(modelId: string, request: GenerateRequest, signal: AbortSignal): Promise<Generation> {
    const model = this.pool.get(modelId);
    if (!model) throw new Error(`runner: no model ${modelId} is configured`);
    let waitMs: number;
    try {
      waitMs = await model.slots.acquire(signal);
    } catch (error) {
      if (error instanceof SlotRefusedError && error.reason === "full") {
        throw runnerHttpError(
          503,
          `model ${modelId}: ${model.slots.sequences} running and ${model.slots.maxQueue} waiting; try again shortly`,
          "model_busy",
          1_000,
        );
      }
      if (error instanceof SlotRefusedError) throw abortedError(modelId, "while queued");
      throw error;
    }
    this.events.emit("queueWait", modelId, waitMs);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      model.lastUsedMs = performance.now();
      model.slots.release();
    };
    try {
      await raceAbort(this.waitForRunner(), signal, () => abortedError(modelId, "waiting for the runner"));
      await raceAbort(this.pool.ensureLoaded(model), signal, () =>
        abortedError(modelId, "while the model loaded"),
      );
    } catch (error) {
      release();
      throw error;
    }
    return this.pending.generate(model, request, signal, release);
  }

  async loadModel(modelId: string): Promise<void> {
    const model = this.pool.get(modelId);
    if (!model) throw new Error(`runner: no model ${modelId} is configured`);
    await this.waitForRunner();
    await this.pool.ensureLoaded(model);
  }

  /** Unloads an idle model (its memory goes back to the system); refuses while it serves requests. */
  async unloadModel(modelId: string): Promise<void> {
    const model = this.pool.get(modelId);
    if (!model) return;
    if (model.slots.running + model.slots.queued > 0) {
      throw new Error(`runner: model ${modelId} is serving requests; unload it once they finish`);
    }
    await this.pool.unload(model, "request");
  }

  /** The child's own figures (its resident memory above all); undefined while it is down. */
  async runnerStats(): Promise<RunnerStats | undefined> {
    if (this.status !== "ready") return undefined;
    const reply = await this.pending.call({ type: "stats" }, 5_000).catch(() => undefined);
    if (reply?.type !== "stats") return undefined;
    const { type: _type, id: _id, ...stats } = reply;
    return stats;
  }

  /** Stops the runner: requests in flight end as aborted, and no restart follows. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    const proc = this.process;
    this.process = undefined;
    // The gateway ends these requests, not the target: "aborted" leaves the target's health alone.
    const gone = new ProviderError("aborted", "the gateway is shutting down the model runner");
    for (const model of this.pool.all()) model.slots.failWaiting(gone);
    this.pending.failAll(gone);
    if (proc) await proc.stop(this.o.stopGraceMs);
    this.setStatus("stopped");
  }

  private onChildMessage(message: ChildMessage): void {
    switch (message.type) {
      case "log":
        this.o.logger[message.level]({ runner: this.process?.pid }, `llama.cpp: ${message.message}`);
        return;
      case "ready":
      case "fatal":
        // Handled by RunnerProcess.ready.
        return;
      default:
        this.pending.dispatch(message);
    }
  }

  private spawn(): void {
    this.setStatus(this.restarts === 0 ? "starting" : "restarting");
    const maxThreads = Math.max(this.o.threads, ...this.o.models.map((m) => m.threads ?? 0));
    const proc = new RunnerProcess(
      this.o.childEntry ?? defaultChildEntry(),
      { gpu: this.o.gpu, maxThreads },
      {
        onMessage: (message) => this.onChildMessage(message),
        onExit: (exit) => this.onExit(proc, exit),
        onOutput: (line) => this.o.logger.warn({ runner: proc.pid }, `runner: ${line}`),
      },
      this.o.startTimeoutMs,
    );
    this.process = proc;
    proc.ready.then(
      (ready) => {
        if (this.process !== proc || this.closing) return;
        this.startFailures = 0;
        this.upSinceMs = performance.now();
        this.o.logger.info(
          { pid: ready.pid, gpu: ready.gpu, initMs: Math.round(ready.initMs) },
          "model runner ready",
        );
        const wasLoaded = this.reloadAfterRestart;
        this.reloadAfterRestart = [];
        this.setStatus("ready");
        if (this.restarts > 0) void this.loadAtStart(wasLoaded);
      },
      (error: Error) => {
        // A fatal start (no usable llama.cpp binary) will not heal by restarting.
        if (this.process === proc && error instanceof RunnerFatalError) this.failure = error.message;
      },
    );
  }

  /** Loads the start-up models and those the previous runner had loaded; failures are logged only. */
  private async loadAtStart(wasLoaded: readonly string[]): Promise<void> {
    const ids = new Set([...wasLoaded, ...this.o.models.filter((m) => m.loadAtStart).map((m) => m.id)]);
    // One after the other: parallel loads would race for the same memory budget.
    for (const id of ids) {
      const model = this.pool.get(id);
      if (model) await this.pool.ensureLoaded(model).catch(() => undefined);
    }
    if (this.exitAtMs !== undefined && this.status === "ready") {
      this.lastRecoveryMs = performance.now() - this.exitAtMs;
      this.exitAtMs = undefined;
      this.o.logger.info({ recoveryMs: Math.round(this.lastRecoveryMs) }, "model runner recovered");
    }
  }

  private onExit(proc: RunnerProcess, exit: ChildExit): void {
    if (this.process !== proc) return;
    this.process = undefined;
    const how = describeExit(exit.code, exit.signal);
    this.lastExit = how;
    const wasReady = this.status === "ready";
    // Models first: a load in flight must still count as in the child when its crash is recorded.
    this.reloadAfterRestart.push(...this.pool.onRunnerExit(how));
    const lost = new ProviderError("protocol", `the model runner exited (${how}) during the request`);
    // Waiting requests first, so the sequences freed below are not handed to them.
    for (const model of this.pool.all()) model.slots.failWaiting(lost);
    this.pending.failAll(lost);
    if (this.closing) {
      this.setStatus("stopped");
      return;
    }
    this.o.logger.error({ exit: how, stderr: exit.stderrTail }, "model runner exited");
    if (!wasReady) this.startFailures++;
    if (this.failure !== undefined || this.startFailures >= this.o.maxStartFailures) {
      this.failure ??= `the runner died ${this.startFailures} times before it was ready (${how})`;
      this.o.logger.error({ failure: this.failure }, "model runner failed; not restarting");
      this.setStatus("failed");
      return;
    }
    if (wasReady && performance.now() - this.upSinceMs >= this.o.stableAfterMs) this.crashStreak = 0;
    const delayMs = Math.min(this.o.restartMaxMs, this.o.restartMinMs * 2 ** this.crashStreak);
    this.crashStreak++;
    this.restarts++;
    this.exitAtMs ??= performance.now();
    this.events.emit("restart", exit);
    this.setStatus("restarting");
    this.restartTimer = setTimeout(() => this.spawn(), delayMs);
    this.restartTimer.unref();
  }

  /** Resolves when the runner is ready; waits up to waitForRunnerMs while it (re)starts. */
  private async waitForRunner(): Promise<void> {
    if (this.status === "starting" || this.status === "restarting") {
      await this.waitForStatus(this.o.waitForRunnerMs);
    }
    if (this.status === "ready") return;
    const why = this.status === "failed" ? `failed: ${this.failure}` : this.status;
    throw new ProviderError("connect", `the model runner is ${why}`);
  }

  private waitForStatus(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.statusWaiters.delete(check);
        resolve();
      };
      const check = () => {
        if (this.status !== "starting" && this.status !== "restarting") done();
      };
      const timer = Number.isFinite(timeoutMs) ? setTimeout(done, timeoutMs) : undefined;
      this.statusWaiters.add(check);
      check();
    });
  }

  private setStatus(status: RunnerStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.events.emit("status", status);
    for (const check of [...this.statusWaiters]) check();
  }
}

/** Waits for `promise` unless `signal` fires first; the work itself carries on (a load others share). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, error: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(error());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(error());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (reason: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(reason);
      },
    );
  });
}
