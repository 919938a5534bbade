/**
 * Turns a runner request into node-llama-cpp terms: the chat history, a grammar for JSON output, a
 * token bias. Child side only: this file imports node-llama-cpp.
 */
import {
  type ChatHistoryItem,
  type Llama,
  type LlamaGrammar,
  type LlamaModel,
  TokenBias,
} from "node-llama-cpp";
import type { RunnerFormat, RunnerMessage } from "./protocol.js";

/** A request the child refuses as the client's mistake (answered as 400 by the provider). */
export class InvalidRequestError extends Error {
  override readonly name = "InvalidRequestError";
}

/**
 * OpenAI messages as a node-llama-cpp chat history ending in a model turn to complete. A trailing
 * assistant message is kept as the start of the answer (a prefill), the way llama-server treats it.
 */
export function toChatHistory(messages: readonly RunnerMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  for (const message of messages) {
    if (message.role === "system") history.push({ type: "system", text: message.content });
    else if (message.role === "user") history.push({ type: "user", text: message.content });
    else history.push({ type: "model", response: [message.content] });
  }
  if (history.at(-1)?.type !== "model") history.push({ type: "model", response: [] });
  return history;
}

const MAX_CACHED_GRAMMARS = 32;

/**
 * Compiles grammars once per distinct schema: an app sending the same response_format on every call
 * should not pay the GBNF compilation each time. Bounded, oldest out first.
 */
export class GrammarCache {
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();

  constructor(private readonly llama: Llama) {}

  get(format: RunnerFormat | undefined): Promise<LlamaGrammar> | undefined {
    if (format === undefined) return undefined;
    const key = format.type === "json" ? "json" : JSON.stringify(format.schema);
    let grammar = this.grammars.get(key);
    if (grammar === undefined) {
      grammar = this.compile(format);
      // A schema that failed to compile is not remembered: the next call reports the error again.
      grammar.catch(() => this.grammars.delete(key));
      if (this.grammars.size >= MAX_CACHED_GRAMMARS) {
        const oldest = this.grammars.keys().next().value;
        if (oldest !== undefined) this.grammars.delete(oldest);
      }
      this.grammars.set(key, grammar);
    }
    return grammar;
  }

  private async compile(format: RunnerFormat): Promise<LlamaGrammar> {
    if (format.type === "json") return this.llama.getGrammarFor("json");
    try {
      // The schema was validated as a JSON object by the provider; node-llama-cpp supports a subset
      // of JSON Schema and throws on the rest, which is the client's to fix.
      return await this.llama.createGrammarForJsonSchema(format.schema as never);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidRequestError(`response_format.json_schema.schema is not supported: ${reason}`);
    }
  }
}

/** OpenAI's logit_bias (token id -> -100..100; -100 bans) as a node-llama-cpp TokenBias. */
export function toTokenBias(model: LlamaModel, logitBias: Record<string, number> | undefined) {
  if (logitBias === undefined) return undefined;
  const entries = Object.entries(logitBias);
  if (entries.length === 0) return undefined;
  const bias = new TokenBias(model.tokenizer);
  const tokens = model.fileInfo.metadata.tokenizer?.ggml?.tokens;
  const vocabulary = Array.isArray(tokens) ? tokens.length : Number.POSITIVE_INFINITY;
  for (const [rawToken, value] of entries) {
    const token = Number(rawToken);
    if (!Number.isInteger(token) || token < 0 || token >= vocabulary) {
      throw new InvalidRequestError(`logit_bias names token ${rawToken}, which this model does not have`);
    }
    bias.set(token as never, value <= -100 ? "never" : { logit: value });
  }
  return bias;
}
