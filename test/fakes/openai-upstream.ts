/**
 * A fake OpenAI API on real HTTP (node:http, 127.0.0.1, a free port) for provider, gateway, SDK,
 * benchmark and chaos tests. It speaks the real wire format (see openai-wire.ts):
 *
 *   POST /v1/chat/completions   JSON `chat.completion` with usage, or with `stream: true` SSE
 *                               `chat.completion.chunk` events: role, one per word, finish, a usage
 *                               chunk when `stream_options.include_usage`, then `data: [DONE]`
 *   POST /v1/embeddings         deterministic unit vectors (float arrays, or base64 when asked)
 *   GET  /v1/models             the configured model ids
 *
 * Usage:
 *
 *   const upstream = await startFakeOpenAIUpstream({ reply: "Hello there" });
 *   provider = make(upstream.url);                     // "http://127.0.0.1:PORT/v1"
 *   upstream.next({ status: 429, retryAfterS: 2 });    // the next request only
 *   upstream.always({ delayBetweenChunksMs: 20 });     // every request without a queued `next`
 *   upstream.requests[0].body.model;                   // method, path, headers, parsed body, outcome
 *   await upstream.until(() => upstream.closedEarly === 1);  // a barrier, not a sleep
 *   upstream.reset(); await upstream.close();
 *
 *   const cloud = await startFakeOpenAIUpstream({ dedupe: true });  // honours Idempotency-Key
 *   cloud.executions.get(key); cloud.received.get(key);             // executed once; re-sends seen
 *   await startFakeOpenAIUpstream({ port, dedupe: cloud.ledger });   // back on its port, same memory
 *
 * Misbehaviour (`Behaviour`) is on demand only; with none queued the fake answers correctly and
 * immediately. One-shot behaviours queue up in order; `path` scopes one to a single endpoint so a
 * background probe does not consume it. Nothing is random and ids count up from 1, so runs repeat.
 */
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type Admitted, IdempotencyLedger } from "./openai-idempotency.js";
import { respond } from "./openai-respond.js";

export interface Behaviour {
  /** Apply only to requests for this path, e.g. "/v1/chat/completions". Default: any path. */
  path?: string;
  /** The assistant's reply text (one stream chunk per word). Default: the fake's `reply`. */
  reply?: string;
  /** Answer with this non-2xx status and an OpenAI error body (or `errorBody`). */
  status?: number;
  /** Raw error body to send with `status`. */
  errorBody?: string;
  /** `Retry-After: <seconds>` on the answer. */
  retryAfterS?: number;
  /** `Retry-After` verbatim, e.g. an HTTP date. */
  retryAfter?: string;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Wait this long before the status line and headers. */
  firstByteDelayMs?: number;
  /** Wait this long between stream events. */
  delayBetweenChunksMs?: number;
  /** Destroy the socket after this many stream events (a JSON answer: after half its body). */
  dropAfterChunks?: number;
  /** Stop writing after this many stream events, keeping the connection open until the client goes. */
  hangAfterChunks?: number;
  /** Never answer; the connection stays open until the client goes or the fake closes. */
  hang?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path with query, e.g. "/v1/chat/completions". */
  path: string;
  /** Lower-case names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when it is not JSON, or undefined when empty. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read fields of whatever a client sent; a cast each time adds nothing
  body: any;
  /**
   * "open" while the fake answers; "completed" once it wrote the whole answer; "dropped" when the
   * fake cut the connection on purpose; "closed-early" when the client closed it first.
   */
  outcome: "open" | "completed" | "dropped" | "closed-early";
  /** Wall-clock ms (Date.now) when the body had arrived and the fake began to answer. */
  atMs: number;
  /** Wall-clock ms when the exchange ended (the outcome left "open"). */
  endedAtMs?: number;
  /** With `dedupe`: whether this keyed request was executed or got the kept answer replayed. */
  idempotency?: "executed" | "replayed";
}

export interface FakeUpstreamOptions {
  /** Default reply text. */
  reply?: string;
  /** Ids served by /v1/models; the first is used when a request names no model. */
  models?: string[];
  /** When set, requests without `Authorization: Bearer <apiKey>` get OpenAI's 401. */
  apiKey?: string;
  /** Embedding length unless the request asks for `dimensions`. */
  embeddingDimensions?: number;
  /** Listen on this port (to bring a "cloud" back where it was); default a free one. */
  port?: number;
  /**
   * Honour `Idempotency-Key` on POST /v1/chat/completions (see openai-idempotency.ts): `true` starts
   * an empty ledger; a ledger from an earlier fake (`upstream.ledger`) carries its memory over, as a
   * real cloud's idempotency store outlives its network outages. Off by default.
   */
  dedupe?: boolean | IdempotencyLedger;
}

export interface FakeOpenAIUpstream {
  /** Base URL ending in /v1. */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  readonly lastRequest: RecordedRequest | undefined;
  /** Answers the client closed before the fake finished them. */
  readonly closedEarly: number;
  /** TCP connections accepted (keep-alive reuse shows as fewer connections than requests). */
  readonly connections: number;
  /** With `dedupe`: the per-key memory, to hand to a fake started later on the same port. */
  readonly ledger: IdempotencyLedger | undefined;
  /** With `dedupe`: executions per Idempotency-Key (empty without it). */
  readonly executions: ReadonlyMap<string, number>;
  /** With `dedupe`: keyed chat requests received per key, re-sends included (empty without it). */
  readonly received: ReadonlyMap<string, number>;
  /** With `dedupe`: the kept answer's JSON text per executed key (empty without it). */
  readonly answers: ReadonlyMap<string, string>;
  /** Queue a behaviour for the next matching request. */
  next(behaviour: Behaviour): FakeOpenAIUpstream;
  /** A behaviour for every request no queued `next` matches; `always({})` clears it. */
  always(behaviour: Behaviour): FakeOpenAIUpstream;
  /** Clears queued and persistent behaviours, recorded requests, counters and the dedupe ledger. */
  reset(): void;
  /** Resolves once `predicate()` holds; re-checked on every request and outcome change. */
  until(predicate: () => boolean): Promise<void>;
  close(): Promise<void>;
}

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  behaviour: Behaviour;
  /** Aborts when the connection closes, so pending delays and hangs end with it. */
  closed: AbortSignal;
  /** With `dedupe`, a keyed chat request's answer (executed or replayed), sent after any delay. */
  admitted?: Admitted;
  /** Marks the answer as cut on purpose and destroys the socket. */
  drop(): void;
}

export async function startFakeOpenAIUpstream(
  options: FakeUpstreamOptions = {},
): Promise<FakeOpenAIUpstream> {
  const settings = {
    reply: options.reply ?? "Hello from the fake upstream.",
    models: options.models ?? ["fake-model"],
    apiKey: options.apiKey,
    embeddingDimensions: options.embeddingDimensions ?? 8,
  };
  let queued: Behaviour[] = [];
  let persistent: Behaviour = {};
  let requests: RecordedRequest[] = [];
  let closedEarly = 0;
  let connections = 0;
  let sequence = 0;
  let generation = 0;
  const ledger =
    options.dedupe instanceof IdempotencyLedger
      ? options.dedupe
      : options.dedupe
        ? new IdempotencyLedger()
        : undefined;
  const none: ReadonlyMap<string, never> = new Map<string, never>();
  const sockets = new Set<Socket>();
  const waiters = new Set<{ predicate: () => boolean; resolve: () => void }>();

  const changed = () => {
    for (const waiter of waiters) {
      if (waiter.predicate()) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  const takeBehaviour = (path: string): Behaviour => {
    const matches = (b: Behaviour) => b.path === undefined || b.path === path.split("?")[0];
    const index = queued.findIndex(matches);
    if (index >= 0) return queued.splice(index, 1)[0] as Behaviour;
    return matches(persistent) ? persistent : {};
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      // The client went away mid-body (a killed gateway, a closing fake): no request to record.
      return;
    }
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const record: RecordedRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers: req.headers,
      body,
      outcome: "open",
      atMs: Date.now(),
    };
    requests.push(record);
    const recordedIn = generation;
    const closing = new AbortController();
    res.on("close", () => {
      if (record.outcome === "open") {
        record.endedAtMs = Date.now();
        record.outcome = res.writableFinished ? "completed" : "closed-early";
        // A request from before reset() must not count against the test that follows.
        if (record.outcome === "closed-early" && recordedIn === generation) closedEarly++;
      }
      closing.abort();
      changed();
    });
    const behaviour = takeBehaviour(record.path);
    const id = `${++sequence}`;
    // Decided before anyone is told of the request, so an until() on executions sees it at once.
    const admitted = ledger?.admit(record, behaviour, settings, id);
    if (admitted) record.idempotency = admitted.replayed ? "replayed" : "executed";
    changed();
    const exchange: Exchange = {
      req,
      res,
      record,
      behaviour,
      closed: closing.signal,
      admitted,
      drop() {
        record.endedAtMs = Date.now();
        record.outcome = "dropped";
        req.socket.destroy();
      },
    };
    try {
      await respond(exchange, settings, id);
    } catch (err) {
      if (!closing.signal.aborted) res.destroy(err as Error);
    }
  });
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  const upstream: FakeOpenAIUpstream = {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return requests;
    },
    get lastRequest() {
      return requests.at(-1);
    },
    get closedEarly() {
      return closedEarly;
    },
    get connections() {
      return connections;
    },
    ledger,
    executions: ledger?.executions ?? none,
    received: ledger?.received ?? none,
    answers: ledger?.answers ?? none,
    next(behaviour) {
      queued.push(behaviour);
      return upstream;
    },
    always(behaviour) {
      persistent = behaviour;
      return upstream;
    },
    reset() {
      queued = [];
      persistent = {};
      requests = [];
      closedEarly = 0;
      connections = 0;
      sequence = 0;
      generation++;
      ledger?.clear();
    },
    until(predicate) {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve) => waiters.add({ predicate, resolve }));
    },
    async close() {
      const closed = once(server, "close");
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  return upstream;
}

/** A base URL (ending in /v1) on a port nothing listens on: for "connection refused" cases. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return `http://127.0.0.1:${port}/v1`;
}
