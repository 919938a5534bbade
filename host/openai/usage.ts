/** Token counts as the upstream reported them. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

function fromObject(u: unknown): Usage | undefined {
  if (typeof u !== "object" || u === null) return undefined;
  const { prompt_tokens: p, completion_tokens: c } = u as Record<string, unknown>;
  if (typeof p !== "number") return undefined;
  return { promptTokens: p, completionTokens: typeof c === "number" ? c : 0 };
}

/** Usage from a non-streaming JSON answer, if it has one. */
export function usageFromJson(bytes: Uint8Array): Usage | undefined {
  try {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    return fromObject((JSON.parse(text) as { usage?: unknown }).usage);
  } catch {
    return undefined;
  }
}

const USAGE = Buffer.from('"usage"');

/**
 * Watches SSE bytes pass by, without holding them, for the usage chunk that OpenAI-style servers
 * send last when `stream_options.include_usage` is set. Only the tail of the stream that mentions
 * "usage" is decoded and parsed: content chunks pass through untouched, however fast they come.
 */
export class SseUsageScanner {
  usage: Usage | undefined;
  /** The bytes after the last newline: a line still arriving. Events end in newlines, so usually empty. */
  private partial: Buffer | undefined;

  push(chunk: Uint8Array): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const text = this.partial ? Buffer.concat([this.partial, bytes]) : bytes;
    const lastNewline = text.lastIndexOf(10);
    const rest = text.subarray(lastNewline + 1);
    // A pathological upstream could send one endless line; the scanner does not need it whole.
    this.partial = rest.length > 0 && rest.length < 1 << 20 ? Buffer.from(rest) : undefined;
    if (lastNewline === -1) return;
    const complete = text.subarray(0, lastNewline);
    if (complete.indexOf(USAGE) === -1) return;
    for (const line of complete.toString("utf8").split("\n")) {
      if (!line.startsWith("data:") || !line.includes('"usage"')) continue;
      try {
        const found = fromObject((JSON.parse(line.slice(5)) as { usage?: unknown }).usage);
        if (found) this.usage = found;
      } catch {
        // Not JSON ([DONE] or a foreign event): nothing to count.
      }
    }
  }
}
