/** What one generation measured, on any side, and how runs are summarised. */

export interface RunFigures {
  /** From the request to the first content. */
  ttftMs: number;
  /** Tokens after the first, per second between the first and the last content. */
  tokensPerS: number;
  completionTokens: number;
}

export interface SideSummary {
  runs: number;
  ttftMedianMs: number;
  ttftP90Ms: number;
  /** The fastest run: on a shared machine interference only ever slows a run down. */
  ttftBestMs: number;
  tokensPerSMedian: number;
  tokensPerSBest: number;
  completionTokens: number;
}

export const round2 = (value: number) => Math.round(value * 100) / 100;

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

export const median = (values: readonly number[]) => quantile(values, 0.5);

export function summarise(runs: readonly RunFigures[]): SideSummary {
  const ttfts = runs.map((r) => r.ttftMs);
  const rates = runs.map((r) => r.tokensPerS);
  return {
    runs: runs.length,
    ttftMedianMs: round2(median(ttfts)),
    ttftP90Ms: round2(quantile(ttfts, 0.9)),
    ttftBestMs: round2(Math.min(...ttfts)),
    tokensPerSMedian: round2(median(rates)),
    tokensPerSBest: round2(Math.max(...rates)),
    completionTokens: runs[0]?.completionTokens ?? 0,
  };
}

export function figures(startMs: number, firstMs: number, lastMs: number, tokens: number): RunFigures {
  return {
    ttftMs: firstMs - startMs,
    tokensPerS: lastMs > firstMs ? ((tokens - 1) * 1000) / (lastMs - firstMs) : Number.NaN,
    completionTokens: tokens,
  };
}

/**
 * Reads an OpenAI SSE stream as it arrives, noting when the first and the last content delta came and
 * the usage chunk's completion_tokens (the stream must ask for include_usage).
 */
export async function timeSse(body: AsyncIterable<Uint8Array>, startMs: number): Promise<RunFigures> {
  const decoder = new TextDecoder();
  let buffered = "";
  let firstMs: number | undefined;
  let lastMs = startMs;
  let tokens = 0;
  for await (const chunk of body) {
    const nowMs = performance.now();
    buffered += decoder.decode(chunk, { stream: true });
    let end = buffered.indexOf("\n\n");
    while (end >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf("\n\n");
      // A string test per event, JSON only for the usage chunk: the measuring must not slow the side.
      if (event.includes('"delta":{"content":') && !event.includes('"delta":{"content":""')) {
        firstMs ??= nowMs;
        lastMs = nowMs;
      } else if (event.includes('"usage":{')) {
        tokens = JSON.parse(event.slice("data: ".length)).usage.completion_tokens;
      }
    }
  }
  if (firstMs === undefined) throw new Error("the stream carried no content");
  return figures(startMs, firstMs, lastMs, tokens);
}
