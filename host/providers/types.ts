// The one interface every provider implements. A provider speaks to one target (a cloud endpoint, a
// local HTTP model server, or the in-process model runner) and knows nothing of routing: the router
// decides which provider to call and feeds the outcome back to the policy core.

/** The OpenAI-style endpoints a provider may serve. */
export type Endpoint = "chat/completions" | "embeddings";

export interface ProviderCallOptions {
  /** Aborted when the client disconnects or the gateway gives up; the upstream call must stop. */
  signal: AbortSignal;
  /** The gateway's request id, forwarded as `x-request-id`. */
  requestId: string;
  /** Extra request headers for the upstream (e.g. `idempotency-key`). Never the client's credentials. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * A 2xx answer whose headers have arrived. `body` yields the upstream's bytes as they come (SSE is
 * passed through, never buffered); iterating it throws a ProviderError if the upstream breaks off.
 */
export interface UpstreamResponse {
  status: number;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string>>;
  body: AsyncIterable<Uint8Array>;
  /**
   * The whole body at once, cheaper than iterating `body` when the caller wants it all (a JSON
   * answer). Rejects with a ProviderError, a "protocol" one past `limitBytes`. Use one of the two.
   */
  readAll?(limitBytes: number): Promise<Uint8Array>;
}

/** How a call failed, in the terms the policy core's outcomes use. */
export type ProviderErrorKind =
  /** No connection could be made (refused, DNS, TLS, connect timeout). */
  | "connect"
  /** Connected, but no complete answer in time (headers, first byte or total timeout). */
  | "timeout"
  /** The upstream answered with a non-2xx status. */
  | "http"
  /** The connection broke or the bytes were not the protocol (dropped mid-body, bad JSON/SSE). */
  | "protocol"
  /** The caller aborted (client gone). Not the target's fault. */
  | "aborted";

export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly details: {
      /** HTTP status for kind "http". */
      status?: number;
      /** From the upstream's Retry-After (seconds or HTTP date), in milliseconds from now. */
      retryAfterMs?: number;
      /** The upstream's error body (at most 64 KiB), passed to the client when it is their fault. */
      body?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
  }
}

export interface Provider {
  /** Target name as the API shows it, e.g. `cloud/openai` or `local/qwen`. */
  readonly name: string;
  readonly kind: "local" | "cloud";
  /** Endpoints this target serves; the router never sends others. */
  readonly endpoints: readonly Endpoint[];
  /**
   * POSTs `body` (an OpenAI request object; `model` already rewritten to the upstream's model name)
   * to the endpoint. Resolves once a 2xx status and headers arrive; rejects with ProviderError
   * otherwise.
   */
  call(
    endpoint: Endpoint,
    body: Readonly<Record<string, unknown>>,
    opts: ProviderCallOptions,
  ): Promise<UpstreamResponse>;
  /** A cheap reachability check (e.g. GET /models). Resolves when any HTTP answer arrives. */
  probe(signal: AbortSignal): Promise<void>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}
