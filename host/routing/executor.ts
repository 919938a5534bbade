import type { Clock } from "../clock.js";
import type { CloudMonitor } from "../connectivity/cloud-monitor.js";
import { type Core, Outcome, Ticket } from "../core/index.js";
import type { GatewayMetrics } from "../metrics/index.js";
import { type Endpoint, ProviderError } from "../providers/types.js";
import type { Target } from "./targets.js";

/** A non-streaming answer larger than this is treated as a broken upstream. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

export interface ExecutorDeps {
  core: Core;
  clock: Clock;
  metrics: GatewayMetrics;
  /** Told about cloud requests that could not connect or that got an answer. */
  monitor?: CloudMonitor;
}

export interface ExecuteRequest {
  endpoint: Endpoint;
  body: Readonly<Record<string, unknown>>;
  /** Targets in fallback order. */
  candidates: readonly Target[];
  stream: boolean;
  signal: AbortSignal;
  requestId: string;
  headers?: Readonly<Record<string, string>>;
}

interface ServedBase {
  target: Target;
  status: number;
  headers: Readonly<Record<string, string>>;
}

export type Execution =
  | (ServedBase & { kind: "json"; bytes: Uint8Array })
  | (ServedBase & {
      kind: "stream";
      first: Uint8Array;
      rest: AsyncIterator<Uint8Array>;
      /** Records how the stream ended; call exactly once (later calls are ignored). */
      finish(error?: unknown): void;
    })
  /** The upstream refused the request itself (a 4xx): passed to the client, no fallback. */
  | (ServedBase & { kind: "refused"; body: string })
  | { kind: "failed"; error: ProviderError | undefined; tried: string[] };

const OUTCOME_LABEL = ["ok", "error", "timeout", "rate_limited", "rejected"] as const;

/** How a failure counts for the target's health. */
export function outcomeOf(error: unknown): Outcome {
  if (!(error instanceof ProviderError)) return Outcome.Error;
  switch (error.kind) {
    case "timeout":
      return Outcome.Timeout;
    case "http": {
      const status = error.details.status ?? 500;
      if (status === 429) return Outcome.RateLimited;
      return status >= 500 || status === 408 ? Outcome.Error : Outcome.Rejected;
    }
    // The client went away: not the target's fault, and not a sign of its health either way.
    case "aborted":
      return Outcome.Rejected;
    default:
      return Outcome.Error;
  }
}

/** The client's own mistake as judged by the upstream: retrying elsewhere would not help. */
function isRefusal(error: ProviderError): boolean {
  const status = error.details.status;
  return (
    error.kind === "http" &&
    status !== undefined &&
    status >= 400 &&
    status < 500 &&
    status !== 408 &&
    status !== 429
  );
}

/** A JSON answer whole, for providers without `readAll` of their own. */
async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early (the throw) ends the iteration, which releases the upstream body.
  for await (const part of body) {
    size += part.byteLength;
    if (size > MAX_JSON_BYTES)
      throw new ProviderError("protocol", `upstream answer larger than ${MAX_JSON_BYTES} bytes`);
    parts.push(part);
  }
  return Buffer.concat(parts);
}

/**
 * Tries the candidates in order. A target whose circuit refuses is skipped; a failure before the
 * first byte of the answer moves on to the next target; every attempt's outcome goes back to the
 * core. Once a stream's first chunk is in hand the target is committed: a later failure ends the
 * stream (see `finish`) instead of falling back, since the client already has part of an answer.
 */
export async function execute(deps: ExecutorDeps, req: ExecuteRequest): Promise<Execution> {
  const { core, clock, metrics, monitor } = deps;
  const tried: string[] = [];
  let lastError: ProviderError | undefined;

  for (const target of req.candidates) {
    if (req.signal.aborted) break;
    const ticket = core.targetStart(target.index, clock.nowMs());
    if (ticket === Ticket.Denied) continue;
    tried.push(target.id);
    const startedMs = clock.nowMs();
    const end = (outcome: Outcome) => {
      const nowMs = clock.nowMs();
      core.targetEnd(target.index, ticket, outcome, nowMs - startedMs, nowMs);
      metrics.upstreamDuration.observe(
        { target: target.id, outcome: OUTCOME_LABEL[outcome] },
        (nowMs - startedMs) / 1000,
      );
    };
    const body = { ...req.body, model: target.models[req.endpoint] ?? req.body.model };
    try {
      const res = await target.provider.call(req.endpoint, body, {
        signal: req.signal,
        requestId: req.requestId,
        headers: req.headers,
      });
      if (!req.stream) {
        const bytes = await (res.readAll ? res.readAll(MAX_JSON_BYTES) : readAll(res.body));
        if (target.kind === "cloud") monitor?.reportSuccess();
        end(Outcome.Ok);
        return { kind: "json", target, status: res.status, headers: res.headers, bytes };
      }
      const it = res.body[Symbol.asyncIterator]();
      const first = await it.next();
      if (target.kind === "cloud") monitor?.reportSuccess();
      // A stream's latency is the time to its first chunk: what the user waits for.
      const ttfbMs = clock.nowMs() - startedMs;
      let finished = false;
      const finish = (error?: unknown) => {
        if (finished) return;
        finished = true;
        const outcome = error === undefined ? Outcome.Ok : outcomeOf(error);
        core.targetEnd(target.index, ticket, outcome, ttfbMs, clock.nowMs());
        metrics.upstreamDuration.observe(
          { target: target.id, outcome: OUTCOME_LABEL[outcome] },
          ttfbMs / 1000,
        );
      };
      if (first.done) {
        finish(new ProviderError("protocol", "upstream closed the stream before any data"));
        lastError = new ProviderError("protocol", "empty stream");
        continue;
      }
      return {
        kind: "stream",
        target,
        status: res.status,
        headers: res.headers,
        first: first.value,
        rest: it,
        finish,
      };
    } catch (error) {
      if (!(error instanceof ProviderError)) {
        // A bug on this side (the provider threw something else): not the target's fault.
        end(Outcome.Rejected);
        throw error;
      }
      const e = error;
      end(outcomeOf(e));
      if (target.kind === "cloud") {
        if (e.kind === "connect" || e.kind === "timeout") monitor?.reportFailure();
        else if (e.kind === "http") monitor?.reportSuccess();
      }
      if (e.kind === "aborted") return { kind: "failed", error: e, tried };
      if (isRefusal(e)) {
        return {
          kind: "refused",
          target,
          status: e.details.status ?? 400,
          headers: {},
          body: e.details.body ?? "",
        };
      }
      lastError = e;
    }
  }
  return { kind: "failed", error: lastError, tried };
}
