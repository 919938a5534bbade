/**
 * OpenAI response bodies as the real API shapes them (chat.completion, chat.completion.chunk,
 * embeddings list, models list), built deterministically for the fake upstream: ids count up, the
 * timestamp is fixed, a "token" is a whitespace-separated word.
 */

/** A fixed `created` timestamp (seconds) so recorded responses compare equal across runs. */
export const CREATED_S = 1_700_000_000;

export function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** Words in the prompt, for `usage.prompt_tokens`: string contents and text parts both count. */
export function promptWords(body: Record<string, unknown>): number {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  let words = 0;
  for (const message of messages as { content?: unknown }[]) {
    const content = message?.content;
    if (typeof content === "string") words += countWords(content);
    else if (Array.isArray(content)) {
      for (const part of content as { text?: unknown }[]) {
        if (typeof part?.text === "string") words += countWords(part.text);
      }
    }
  }
  return words;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usageFor(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

export function chatCompletion(id: string, model: string, reply: string, usage: Usage) {
  return {
    id,
    object: "chat.completion",
    created: CREATED_S,
    model,
    system_fingerprint: "fp_fake",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: reply, refusal: null },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage,
  };
}

/**
 * The `data:` events of a streamed completion, in OpenAI's order: a role chunk, one content chunk per
 * word (later words carry their leading space, so the contents concatenate to the reply), a finish
 * chunk, a usage chunk with empty choices when asked for, then `[DONE]`. With include_usage the
 * other chunks carry `"usage": null`, as OpenAI's do.
 */
export function chatCompletionEvents(
  id: string,
  model: string,
  reply: string,
  usage: Usage,
  includeUsage: boolean,
): string[] {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    id,
    object: "chat.completion.chunk",
    created: CREATED_S,
    model,
    system_fingerprint: "fp_fake",
    choices,
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
  const choice = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finishReason,
  });
  const words = reply.split(/(?=\s)/).filter(Boolean);
  const chunks: unknown[] = [
    chunk([choice({ role: "assistant", content: "", refusal: null })]),
    ...words.map((word) => chunk([choice({ content: word })])),
    chunk([choice({}, "stop")]),
  ];
  if (includeUsage) chunks.push(chunk([], { usage }));
  return [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), "data: [DONE]\n\n"];
}

/** A unit vector derived from the text alone (FNV-1a per dimension), so equal inputs embed equally. */
export function embedText(text: string, dimensions: number): number[] {
  const vector: number[] = [];
  for (let d = 0; d < dimensions; d++) {
    let hash = 0x811c9dc5 ^ d;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    vector.push(((hash >>> 0) / 0xffffffff) * 2 - 1);
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((v) => Math.fround(v / norm));
}

/** OpenAI SDKs ask for base64 by default: little-endian float32s, base64-encoded. */
function encodeVector(vector: number[], format: unknown): number[] | string {
  if (format !== "base64") return vector;
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}

export function embeddingsList(body: Record<string, unknown>, model: string, defaultDimensions: number) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const texts = inputs.map((input) => (typeof input === "string" ? input : JSON.stringify(input)));
  const dimensions = typeof body.dimensions === "number" ? body.dimensions : defaultDimensions;
  const promptTokens = texts.reduce((sum, text) => sum + countWords(text), 0);
  return {
    object: "list",
    data: texts.map((text, index) => ({
      object: "embedding",
      index,
      embedding: encodeVector(embedText(text, dimensions), body.encoding_format),
    })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

export function modelsList(models: readonly string[]) {
  return {
    object: "list",
    data: models.map((id) => ({ id, object: "model", created: CREATED_S, owned_by: "fake-upstream" })),
  };
}

/** OpenAI's error shape, which its SDKs parse into `error.message` / `error.code`. */
export function errorBody(message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } };
}
