import type { ChildExit } from "./runner-process.js";

export type RunnerStatus = "starting" | "ready" | "restarting" | "failed" | "stopped";

export interface GenerationEnd {
  /** "aborted" only once the child has confirmed it stopped generating. */
  outcome: "completed" | "aborted" | "failed";
  completionTokens: number;
  /** Decode speed after the first token, when there were at least two tokens. */
  tokensPerSecond?: number;
  /** The child's time to first token. */
  firstTokenMs?: number;
}

/** What the supervisor reports as it happens: metrics, the policy core's loaded flags, tests. */
export interface RunnerListener {
  status?(status: RunnerStatus): void;
  modelLoaded?(modelId: string, loadMs: number): void;
  modelUnloaded?(modelId: string, reason: "lru" | "request" | "runner_exit"): void;
  queueWait?(modelId: string, waitMs: number): void;
  generationStart?(modelId: string, id: number): void;
  generationEnd?(modelId: string, id: number, end: GenerationEnd): void;
  restart?(exit: ChildExit): void;
}

export class RunnerEvents {
  private readonly listeners = new Set<RunnerListener>();

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  add(listener: RunnerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit<K extends keyof RunnerListener>(event: K, ...args: Parameters<NonNullable<RunnerListener[K]>>): void {
    for (const listener of this.listeners) {
      try {
        (listener[event] as ((...a: typeof args) => void) | undefined)?.(...args);
      } catch (error) {
        // A listener's bug must not break the request it was told about.
        this.onListenerError(error);
      }
    }
  }
}
