import { ProviderError } from "../providers/types.js";
import { childError } from "./errors.js";
import type { GenerationEnd, RunnerEvents } from "./events.js";
import { Generation } from "./generation.js";
import type { ModelRuntime } from "./model-pool.js";
import type { ChildMessage, GenerateRequest, ParentMessage, WithoutId } from "./protocol.js";

/** Sends to the current child; false when there is none (it died, or is restarting). */
export type SendToChild = (message: ParentMessage) => boolean;

type Pending =
  | { kind: "call"; resolve: (message: ChildMessage) => void; reject: (error: Error) => void }
  | {
      kind: "generation";
      model: ModelRuntime;
      generation: Generation;
      /** The consumer gave up (abort or cancel); the child has been told to stop. */
      abandoned: boolean;
      finish: () => void;
    };

/**
 * What the gateway has asked the child and not yet heard the end of: calls (load, unload, stats)
 * answered by one message, and generations answered by `text` messages then `done` or `error`.
 */
export class PendingRequests {
  private readonly entries = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly send: SendToChild,
    private readonly events: RunnerEvents,
  ) {}

  call(message: WithoutId<ParentMessage>, timeoutMs: number): Promise<ChildMessage> {
    const id = this.nextId++;
    return new Promise<ChildMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.entries.delete(id);
        reject(
          new ProviderError("timeout", `the model runner did not answer ${message.type} in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      timer.unref();
      const settle = () => clearTimeout(timer);
      this.entries.set(id, {
        kind: "call",
        resolve: (reply) => {
          settle();
          resolve(reply);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      if (!this.send({ ...message, id } as ParentMessage)) {
        this.entries.delete(id);
        settle();
        reject(new ProviderError("connect", "the model runner is not running"));
      }
    });
  }

  /**
   * Sends a generation to the child. `release` frees the model's sequence once the child has
   * finished with it (done or error), which after an abort is a little later than the caller's end.
   */
  generate(
    model: ModelRuntime,
    request: GenerateRequest,
    signal: AbortSignal,
    release: () => void,
  ): Generation {
    const modelId = model.spec.id;
    const id = this.nextId++;
    const onAbort = () => abandon(abortedError(modelId, "mid-generation"));
    const entry = {
      kind: "generation" as const,
      model,
      abandoned: false,
      generation: new Generation(() => abandon()),
      finish: () => {
        signal.removeEventListener("abort", onAbort);
        this.entries.delete(id);
        release();
      },
    };
    const abandon = (error?: ProviderError) => {
      if (entry.abandoned) return;
      entry.abandoned = true;
      if (error) entry.generation.fail(error);
      this.send({ type: "abort", id });
    };
    this.entries.set(id, entry);
    signal.addEventListener("abort", onAbort, { once: true });
    this.events.emit("generationStart", modelId, id);
    if (!this.send({ type: "generate", id, modelId, request })) {
      entry.generation.fail(new ProviderError("connect", `model ${modelId}: the runner is not running`));
      entry.finish();
    }
    return entry.generation;
  }

  /** A child message that answers a request (it has an id). */
  dispatch(message: Exclude<ChildMessage, { type: "ready" | "fatal" | "log" }>): void {
    const entry = this.entries.get(message.id);
    if (!entry) return;
    if (entry.kind === "call") {
      this.entries.delete(message.id);
      entry.resolve(message);
      return;
    }
    const modelId = entry.model.spec.id;
    switch (message.type) {
      case "text":
        entry.generation.push({ type: "text", text: message.text, tokens: message.tokens });
        return;
      case "done": {
        entry.finish();
        const end: GenerationEnd = {
          outcome: message.finishReason === "abort" ? "aborted" : "completed",
          completionTokens: message.completionTokens,
          firstTokenMs: message.firstTokenMs,
          ...decodeRate(message.completionTokens, message.firstTokenMs, message.totalMs),
        };
        if (end.tokensPerSecond !== undefined) entry.model.tokensPerSecond = end.tokensPerSecond;
        this.events.emit("generationEnd", modelId, message.id, end);
        if (message.finishReason === "abort") {
          entry.generation.fail(abortedError(modelId, "mid-generation"));
          return;
        }
        const { type: _type, id: _id, finishReason, ...figures } = message;
        entry.generation.push({ type: "done", finishReason, ...figures });
        return;
      }
      case "error":
        entry.finish();
        this.events.emit("generationEnd", modelId, message.id, { outcome: "failed", completionTokens: 0 });
        entry.generation.fail(childError(modelId, message.code, message.message));
        return;
    }
  }

  /** The child is gone: every call and generation fails with `error`. */
  failAll(error: ProviderError): void {
    for (const [id, entry] of this.entries) {
      this.entries.delete(id);
      if (entry.kind === "call") {
        entry.reject(error);
        continue;
      }
      entry.generation.fail(error);
      this.events.emit("generationEnd", entry.model.spec.id, id, { outcome: "failed", completionTokens: 0 });
      entry.finish();
    }
  }
}

export function abortedError(modelId: string, when: string): ProviderError {
  return new ProviderError("aborted", `model ${modelId}: the caller aborted ${when}`);
}

function decodeRate(tokens: number, firstTokenMs: number, totalMs: number): { tokensPerSecond?: number } {
  const decodeMs = totalMs - firstTokenMs;
  return tokens >= 2 && decodeMs > 0 ? { tokensPerSecond: ((tokens - 1) * 1000) / decodeMs } : {};
}
