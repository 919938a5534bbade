import type { TaskClass } from "../core/codes.js";
import { isRecord, lastUserText, piiScanText } from "./messages.js";
import { detectPii, PII_SCAN_LIMIT_CHARS, type PiiResult } from "./pii.js";
import { CLASSIFY_SCAN_LIMIT_CHARS, classifyTask } from "./task-class.js";
import { estimateTokens } from "./tokens.js";

/** What the router needs to know about a chat request. */
export interface RequestFeatures {
  promptTokens: number;
  /** The client's cap on completion tokens; 0 when it set none. */
  maxTokens: number;
  taskClass: TaskClass;
  pii: PiiResult;
  stream: boolean;
}

/** The fields of an OpenAI chat completion body the features read; anything else is ignored. */
export interface ChatBodyLike {
  messages?: unknown;
  tools?: unknown;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  stream?: unknown;
}

/** Features of a chat completion body. Never throws, whatever the shape of `body`. */
export function extractFeatures(body: ChatBodyLike): RequestFeatures {
  const b: ChatBodyLike = isRecord(body) ? body : {};
  return {
    promptTokens: estimateTokens(b.messages, b.tools),
    // max_completion_tokens replaced max_tokens in OpenAI's API; when both are sent it is the newer.
    maxTokens: tokenCount(b.max_completion_tokens) ?? tokenCount(b.max_tokens) ?? 0,
    taskClass: classifyTask(lastUserText(b.messages, CLASSIFY_SCAN_LIMIT_CHARS)),
    pii: detectPii(piiScanText(b.messages, PII_SCAN_LIMIT_CHARS)),
    stream: b.stream === true,
  };
}

function tokenCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
