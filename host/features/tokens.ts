import { asArray, isRecord } from "./messages.js";

/**
 * The estimate rule, chosen to be cheap (no tokenizer, string lengths only) and to err slightly high
 * for English and code:
 *
 *   tokens = ceil(textChars / 4)               text of every message, its name and tool calls
 *          + 4 per message                      role and framing tokens of the chat template
 *          + 85 per non-text content part       OpenAI's price of a low-detail image; a floor
 *          + 3 when there is any message        the tokens that prime the reply
 *          + ceil(JSON.stringify(tools) / 4)    tool definitions are sent as JSON-like text
 *
 * Characters are UTF-16 code units. Scripts with about one token per character (Chinese, Japanese)
 * are underestimated by up to four times; the core only uses the figure for rate limiting and a
 * context-length check with headroom, where a fast rough figure is the better trade.
 */
export const CHARS_PER_TOKEN = 4;
export const MESSAGE_OVERHEAD_TOKENS = 4;
export const REPLY_PRIMING_TOKENS = 3;
export const NON_TEXT_PART_TOKENS = 85;

/** Estimated prompt tokens for OpenAI chat `messages` and optional `tools`. Never throws. */
export function estimateTokens(messages: unknown, tools?: unknown): number {
  const list = asArray(messages);
  let chars = 0;
  let fixed = list.length > 0 ? REPLY_PRIMING_TOKENS : 0;
  for (const message of list) {
    fixed += MESSAGE_OVERHEAD_TOKENS;
    if (!isRecord(message)) continue;
    if (typeof message.name === "string") chars += message.name.length;
    const content = message.content;
    if (typeof content === "string") {
      chars += content.length;
    } else {
      for (const part of asArray(content)) {
        if (isRecord(part) && typeof part.text === "string") chars += part.text.length;
        else if (isRecord(part) && typeof part.refusal === "string") chars += part.refusal.length;
        else fixed += NON_TEXT_PART_TOKENS;
      }
    }
    for (const call of asArray(message.tool_calls)) {
      const fn = isRecord(call) ? call.function : undefined;
      if (!isRecord(fn)) continue;
      if (typeof fn.name === "string") chars += fn.name.length;
      if (typeof fn.arguments === "string") chars += fn.arguments.length;
    }
  }
  return Math.ceil(chars / CHARS_PER_TOKEN) + fixed + Math.ceil(jsonLength(tools) / CHARS_PER_TOKEN);
}

function jsonLength(value: unknown): number {
  if (value === undefined || value === null) return 0;
  try {
    // A parsed JSON body cannot be cyclic or hold a BigInt, but a caller building one by hand can.
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}
