import { performance } from "node:perf_hooks";

/**
 * At most one text message per this interval (30 a second), the first of a generation at once. Each
 * message wakes the gateway and, through it, the client, and on a small device those wake-ups push
 * the model's threads off their cores: measured on 2 shared cores with the tiny model at ~3,500
 * tokens/s, the tokens right after a message took ~45% longer for about a millisecond, and HTTP
 * streaming ran at 0.82-0.90x of node-llama-cpp in-process with 5 ms, ~0.94x with 16 ms, 0.97-1.0x
 * with 33 ms and with a single message at the end. 33 ms is below what a reader notices, and a model
 * slower than 30 tokens a second still sends every token on its own.
 */
export const TEXT_INTERVAL_MS = 33;

/**
 * Collects a generation's text for the gateway and sends it off the token path. A send happens on a
 * later event-loop turn, not inside the token callback: by then LlamaChat has started the next token
 * on llama.cpp's thread, so the IPC write overlaps the compute instead of delaying it. A slow model
 * (one token every tens of ms) still sends every token on its own, at once; a fast one sends a batch
 * every 33 ms, which keeps the gateway's event loop and the device's cores free for the model.
 */
export class TextBatcher {
  private text = "";
  private tokens = 0;
  private lastSentMs = Number.NEGATIVE_INFINITY;
  private immediate: NodeJS.Immediate | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly send: (text: string, tokens: number) => void) {}

  addTokens(count: number): void {
    this.tokens += count;
  }

  addText(text: string): void {
    this.text += text;
    if (this.immediate !== undefined || this.timer !== undefined) return;
    const waitMs = this.lastSentMs + TEXT_INTERVAL_MS - performance.now();
    if (waitMs <= 0) this.immediate = setImmediate(() => this.flush());
    else this.timer = setTimeout(() => this.flush(), waitMs);
  }

  /** Sends what is pending now; call before the generation's last message. */
  flush(): void {
    // Each handle cleared by its own function: clearImmediate on a Timeout corrupts Node's count of
    // pending immediates, and node-llama-cpp's batch dispatch runs on immediates.
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.immediate = undefined;
    this.timer = undefined;
    if (this.text === "" && this.tokens === 0) return;
    this.send(this.text, this.tokens);
    this.lastSentMs = performance.now();
    this.text = "";
    this.tokens = 0;
  }
}
