/**
 * The runner's output in OpenAI's wire format: a `chat.completion` object, or `chat.completion.chunk`
 * SSE events in OpenAI's order (role chunk, content deltas, finish chunk, usage chunk when asked,
 * `[DONE]`). The chunk framing is built once per call and each delta only JSON-encodes its text: at a
 * few thousand tokens a second the encoder is on the hot path.
 */
import { randomUUID } from "node:crypto";
import type { GenerationDone } from "../../runner/generation.js";

export interface CompletionIdentity {
  id: string;
  /** Seconds since the epoch. */
  created: number;
  model: string;
}

export function newIdentity(model: string, nowMs: number): CompletionIdentity {
  return { id: `chatcmpl-${randomUUID().replaceAll("-", "")}`, created: Math.floor(nowMs / 1000), model };
}

function usageOf(done: GenerationDone) {
  return {
    prompt_tokens: done.promptTokens,
    completion_tokens: done.completionTokens,
    total_tokens: done.promptTokens + done.completionTokens,
  };
}

export function chatCompletionJson(
  identity: CompletionIdentity,
  content: string,
  done: GenerationDone,
): string {
  return JSON.stringify({
    id: identity.id,
    object: "chat.completion",
    created: identity.created,
    model: identity.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content, refusal: null },
        logprobs: null,
        finish_reason: done.finishReason,
      },
    ],
    usage: usageOf(done),
  });
}

export class SseEncoder {
  private readonly head: string;
  private readonly tail: string;

  constructor(
    identity: CompletionIdentity,
    private readonly includeUsage: boolean,
  ) {
    this.head = `data: {"id":${JSON.stringify(identity.id)},"object":"chat.completion.chunk","created":${identity.created},"model":${JSON.stringify(identity.model)},"choices":`;
    // OpenAI sends `"usage":null` on every chunk but the last when usage was asked for.
    this.tail = includeUsage ? `,"usage":null}\n\n` : "}\n\n";
  }

  role(): string {
    return `${this.head}[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]${this.tail}`;
  }

  content(text: string): string {
    return `${this.head}[{"index":0,"delta":{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}]${this.tail}`;
  }

  /** The finish chunk, the usage chunk when asked for, and `[DONE]`. */
  end(done: GenerationDone): string {
    let text = `${this.head}[{"index":0,"delta":{},"logprobs":null,"finish_reason":"${done.finishReason}"}]${this.tail}`;
    if (this.includeUsage) text += `${this.head}[],"usage":${JSON.stringify(usageOf(done))}}\n\n`;
    return `${text}data: [DONE]\n\n`;
  }
}
