/**
 * Reading text out of OpenAI chat messages. Bodies reach the feature code after validation, but
 * the helpers here still accept `unknown` and skip anything odd: a feature estimate must never be the
 * reason a request fails.
 */

/** The part of an OpenAI chat message the features read. */
export interface ChatMessage {
  role: string;
  content?: string | null | ContentPart[];
  name?: string;
  tool_calls?: { function?: { name?: string; arguments?: string } }[];
}

export type ContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string; detail?: string } }
  | { type: string; [key: string]: unknown };

/** Roles whose text is scanned for PII: what the client or its tools wrote, not what a model said. */
export const PII_ROLES: ReadonlySet<string> = new Set(["user", "system", "developer", "tool", "function"]);

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * The text of one message's `content`, text parts joined by newlines, cut at `limitChars` so a
 * huge message is never copied whole.
 */
export function contentText(content: unknown, limitChars: number): string {
  if (typeof content === "string")
    return content.length > limitChars ? content.slice(0, limitChars) : content;
  let text = "";
  for (const part of asArray(content)) {
    if (text.length >= limitChars) break;
    if (!isRecord(part) || typeof part.text !== "string") continue;
    text += text === "" ? part.text : `\n${part.text}`;
  }
  return text.length > limitChars ? text.slice(0, limitChars) : text;
}

/** The text of the last message whose role is `user`, or "" when there is none. */
export function lastUserText(messages: unknown, limitChars: number): string {
  const list = asArray(messages);
  for (let i = list.length - 1; i >= 0; i--) {
    const message = list[i];
    if (isRecord(message) && message.role === "user") return contentText(message.content, limitChars);
  }
  return "";
}

/**
 * The text of every user, system, developer and tool message, newest first, until `limitChars`
 * is spent. Newest first because that is where fresh personal data arrives, while the oldest message
 * is usually an operator-written system prompt that could otherwise use up the whole budget.
 * Messages are joined with a newline so a pattern never runs across two of them.
 */
export function piiScanText(messages: unknown, limitChars: number): string {
  const list = asArray(messages);
  const pieces: string[] = [];
  let remaining = limitChars;
  for (let i = list.length - 1; i >= 0 && remaining > 0; i--) {
    const message = list[i];
    if (!isRecord(message) || typeof message.role !== "string" || !PII_ROLES.has(message.role)) continue;
    const text = contentText(message.content, remaining);
    if (text === "") continue;
    pieces.push(text);
    remaining -= text.length + 1;
  }
  return pieces.join("\n");
}
