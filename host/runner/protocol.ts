/**
 * The messages between the gateway (supervisor) and the model runner child, over Node's IPC channel
 * (JSON serialisation). Requests carry a numeric id the answer repeats; a generation answers with any
 * number of `text` messages, then exactly one `done` or `error`.
 */

/** One OpenAI message reduced to what a chat template renders. */
export interface RunnerMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** Constrained output: any JSON value, or JSON matching a schema (a node-llama-cpp grammar). */
export type RunnerFormat = { type: "json" } | { type: "json_schema"; schema: Record<string, unknown> };

export interface GenerateRequest {
  messages: RunnerMessage[];
  /** Completion tokens at most; absent, whatever room the context has left. */
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  /** Stop sequences: generation ends before any of them and they are not part of the answer. */
  stop?: string[];
  format?: RunnerFormat;
  /** Token id -> bias in [-100, 100] (OpenAI's logit_bias); -100 bans the token. */
  logitBias?: Record<string, number>;
}

export interface LoadSpec {
  modelId: string;
  /** Absolute path of the GGUF file, already checked by the gateway. */
  path: string;
  contextTokens: number;
  /** Parallel generations: one context sequence each. */
  sequences: number;
  threads: number;
  batchSize?: number;
  /** Layers offloaded to a GPU; 0 on CPU-only devices. */
  gpuLayers?: number | "max";
  /** A node-llama-cpp chat wrapper name or a Jinja template; the GGUF's own template when absent. */
  chatTemplate?: string;
}

export type ParentMessage =
  | { type: "load"; id: number; spec: LoadSpec }
  | { type: "unload"; id: number; modelId: string }
  | { type: "generate"; id: number; modelId: string; request: GenerateRequest }
  | { type: "abort"; id: number }
  | { type: "stats"; id: number };

/** A request as the supervisor's caller writes it: the id is assigned when it is sent. */
export type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

export type FinishReason = "stop" | "length" | "abort";

/** Why a request failed in the child; `invalid_request` and `context_length_exceeded` are the client's. */
export type RunnerErrorCode =
  | "invalid_request"
  | "context_length_exceeded"
  | "not_loaded"
  | "busy"
  | "load_failed"
  | "internal";

export interface RunnerStats {
  pid: number;
  rssBytes: number;
  heapUsedBytes: number;
  models: { modelId: string; contextTokens: number; sequencesFree: number }[];
}

export type ChildMessage =
  | { type: "ready"; pid: number; gpu: string | false; cpuMathCores: number; initMs: number }
  | { type: "fatal"; message: string }
  | { type: "log"; level: "debug" | "info" | "warn" | "error"; message: string }
  | { type: "loaded"; id: number; modelId: string; loadMs: number; contextTokens: number }
  | { type: "unloaded"; id: number; modelId: string }
  | { type: "text"; id: number; text: string; tokens: number }
  | {
      type: "done";
      id: number;
      finishReason: FinishReason;
      promptTokens: number;
      completionTokens: number;
      /** From the generate message's arrival to the first text, in the child. */
      firstTokenMs: number;
      totalMs: number;
    }
  | { type: "error"; id: number; code: RunnerErrorCode; message: string }
  | ({ type: "stats"; id: number } & RunnerStats);
