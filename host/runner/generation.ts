import type { ProviderError } from "../providers/types.js";
import type { FinishReason } from "./protocol.js";

export interface GenerationText {
  type: "text";
  text: string;
  /** Tokens this text came from (0 when a token's text was held back until now). */
  tokens: number;
}

export interface GenerationDone {
  type: "done";
  finishReason: Exclude<FinishReason, "abort">;
  promptTokens: number;
  completionTokens: number;
  /** Measured in the child, from its receiving the request. */
  firstTokenMs: number;
  totalMs: number;
}

export type GenerationEvent = GenerationText | GenerationDone;

/**
 * One running generation as the gateway sees it: the child's events, buffered until the consumer
 * reads them. `read()` hands over everything buffered at once, so a consumer slower than the model
 * (a client on a slow link) catches up in one write instead of one per token.
 */
export class Generation {
  private buffer: GenerationEvent[] = [];
  private failure: ProviderError | undefined;
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(private readonly onCancel: () => void) {}

  /** Resolves with the next events (at least one), or an empty array once the generation is over. */
  async read(): Promise<GenerationEvent[]> {
    while (this.buffer.length === 0 && !this.ended) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    if (this.buffer.length > 0) {
      const events = this.buffer;
      this.buffer = [];
      return events;
    }
    if (this.failure) throw this.failure;
    return [];
  }

  /** Stops the generation in the child; later reads end. Safe to call after the end. */
  cancel(): void {
    if (this.ended) return;
    this.ended = true;
    this.buffer = [];
    this.onCancel();
    this.notify();
  }

  push(event: GenerationEvent): void {
    if (this.ended) return;
    this.buffer.push(event);
    if (event.type === "done") this.ended = true;
    this.notify();
  }

  fail(error: ProviderError): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    // What the child produced before failing is dropped: the answer is incomplete either way.
    this.buffer = [];
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
