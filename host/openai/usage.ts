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
    return fromObject((JSON.parse(Buffer.from(bytes).toString("utf8")) as { usage?: unknown }).usage);
  } catch {
    return undefined;
  }
}

const decoder = new TextDecoder();

/**
 * Watches SSE bytes pass by, without holding them, for the usage chunk that OpenAI-style servers
 * send last when `stream_options.include_usage` is set. Only `data:` lines that mention "usage"
 * are parsed; content chunks are counted as a fallback estimate of completion tokens.
 */
export class SseUsageScanner {
  usage: Usage | undefined;
  contentChunks = 0;
  private partial = "";

  push(chunk: Uint8Array): void {
    const text = this.partial + decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    // A pathological upstream could send one endless line; the scanner does not need it whole.
    if (this.partial.length > 1 << 20) this.partial = "";
    for (const line of lines) {
      if (!line.startsWith("data:")) continue;
      if (line.includes('"content"')) this.contentChunks++;
      if (!line.includes('"usage"')) continue;
      try {
        const found = fromObject((JSON.parse(line.slice(5)) as { usage?: unknown }).usage);
        if (found) this.usage = found;
      } catch {
        // Not JSON ([DONE] or a foreign event): nothing to count.
      }
    }
  }
}
