import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import type { Logger } from "../logger.js";
import { type Catalog, EMPTY_CATALOG } from "./catalog.js";
import { isHttpUpstream, type UpstreamConfig } from "./config.js";

export type UpstreamStatus = "connecting" | "up" | "down";

/** Answers a sampling request an upstream sends while the gateway serves one of its tools. */
export type SamplingHandler = (params: Record<string, unknown>) => Promise<Record<string, unknown>>;

export interface UpstreamOptions {
  config: UpstreamConfig;
  logger: Logger;
  version: string;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  callTimeoutMs: number;
  sampling?: SamplingHandler;
}

export interface UpstreamState {
  name: string;
  transport: "http" | "stdio";
  status: UpstreamStatus;
  /** Why the last connection attempt or connection failed. */
  error?: string;
  /** Connections made after the first: reconnects of an HTTP upstream, restarts of a stdio one. */
  reconnects: number;
  tools: number;
  /** The stdio upstream's process while it runs. */
  pid?: number;
}

/** Error codes meaning a request never reached the upstream, so nothing was executed. */
const UNREACHED = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOENT",
]);

/** True when `error` (or a cause of it) says the upstream was never reached. */
export function neverReached(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && UNREACHED.has(code)) return true;
    if (e instanceof UpstreamUnavailableError) return true;
  }
  return false;
}

/** Marks an upstream call so the log messages streamed with its answer reach the right caller. */
export const CALL_META_KEY = "io.edge-gateway/call";

export interface CallOptions {
  signal?: AbortSignal;
  onprogress?: (p: Record<string, unknown>) => void;
  /** Log messages (`notifications/message` params) the upstream sends while answering this call. */
  onlog?: (params: Record<string, unknown>) => void;
  /**
   * Hand an `input_required` answer (2026-07-28) back to the caller instead of failing: the
   * gateway passes it to its own client, which answers by retrying with `inputResponses`.
   */
  allowInputRequired?: boolean;
}

/** Thrown for a call to an upstream that is not connected: it was not sent. */
export class UpstreamUnavailableError extends Error {
  constructor(
    readonly upstream: string,
    reason: string | undefined,
  ) {
    super(`upstream '${upstream}' is unreachable${reason ? ` (${reason})` : ""}`);
    this.name = "UpstreamUnavailableError";
  }
}

/**
 * One configured MCP server, reached through the official client: a Streamable HTTP endpoint or a
 * program spawned on stdio. Keeps one connection, reconnects (restarts, for stdio) with capped
 * exponential backoff when it drops, and re-reads the catalog on every connect.
 */
export type ListKind = "tools" | "prompts" | "resources";

export class Upstream extends EventEmitter<{
  catalog: [Catalog];
  status: [UpstreamStatus];
  /** The upstream announced that one of its lists changed (the catalog has been re-read). */
  listChanged: [ListKind];
}> {
  readonly name: string;
  readonly transport: "http" | "stdio";
  private client: Client | undefined;
  /** Per-call listeners for log messages, keyed by the call's CALL_META_KEY. */
  private readonly logListeners = new Map<string, (params: Record<string, unknown>) => void>();
  private pid: number | undefined;
  private status: UpstreamStatus = "connecting";
  private error: string | undefined;
  private reconnects = 0;
  private connects = 0;
  private backoffMs: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private toolCount = 0;

  constructor(private readonly o: UpstreamOptions) {
    super();
    this.name = o.config.name;
    this.transport = isHttpUpstream(o.config) ? "http" : "stdio";
    this.backoffMs = o.reconnectMinMs;
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => undefined);
  }

  state(): UpstreamState {
    return {
      name: this.name,
      transport: this.transport,
      status: this.status,
      ...(this.error === undefined ? {} : { error: this.error }),
      reconnects: this.reconnects,
      tools: this.toolCount,
      ...(this.pid === undefined || this.status !== "up" ? {} : { pid: this.pid }),
    };
  }

  get up(): boolean {
    return this.status === "up";
  }

  /** True when the connection speaks 2026-07-28 (per-request envelope, input_required). */
  get modern(): boolean {
    return (this.client?.getNegotiatedProtocolVersion() ?? "") >= "2026";
  }

  /** Calls a tool by its upstream name. Throws UpstreamUnavailableError, unsent, when not connected. */
  async callTool(
    params: { name: string; arguments?: Record<string, unknown>; _meta?: Record<string, unknown> } & Record<
      string,
      unknown
    >,
    options: CallOptions = {},
  ): Promise<Record<string, unknown>> {
    const client = this.requireClient();
    const callId = options.onlog ? randomUUID() : undefined;
    if (callId && options.onlog) this.logListeners.set(callId, options.onlog);
    try {
      const sent = callId ? { ...params, _meta: { ...params._meta, [CALL_META_KEY]: callId } } : params;
      return (await client.callTool(
        sent as never,
        {
          signal: options.signal,
          timeout: this.o.callTimeoutMs,
          ...(options.allowInputRequired ? { allowInputRequired: true } : {}),
          ...(options.onprogress ? { onprogress: options.onprogress, resetTimeoutOnProgress: true } : {}),
        } as never,
      )) as Record<string, unknown>;
    } catch (error) {
      this.noteFailure(error);
      throw error;
    } finally {
      if (callId) this.logListeners.delete(callId);
    }
  }

  /** Any other request (resources/read, prompts/get, completion/complete) by method and params. */
  async request(
    method: string,
    params: Record<string, unknown>,
    signal?: AbortSignal,
    allowInputRequired = false,
  ): Promise<unknown> {
    const client = this.requireClient();
    const mrtr = {
      signal,
      timeout: this.o.callTimeoutMs,
      ...(allowInputRequired ? { allowInputRequired } : {}),
    };
    try {
      switch (method) {
        case "resources/read":
          return await client.readResource(params as never, mrtr as never);
        case "prompts/get":
          return await client.getPrompt(params as never, mrtr as never);
        case "completion/complete":
          return await client.complete(params as never, { signal, timeout: this.o.callTimeoutMs });
        case "resources/subscribe":
          return await client.subscribeResource(params as never, { signal, timeout: this.o.callTimeoutMs });
        case "resources/unsubscribe":
          return await client.unsubscribeResource(params as never, { signal, timeout: this.o.callTimeoutMs });
        default:
          throw new Error(`method ${method} is not forwarded`);
      }
    } catch (error) {
      this.noteFailure(error);
      throw error;
    }
  }

  private requireClient(): Client {
    if (this.status !== "up" || this.client === undefined)
      throw new UpstreamUnavailableError(this.name, this.error);
    return this.client;
  }

  /** A refused connection on an HTTP upstream means it went away: reconnect rather than wait. */
  private noteFailure(error: unknown): void {
    if (this.transport === "http" && neverReached(error) && this.status === "up") {
      this.markDown(error);
      void this.client?.close().catch(() => undefined);
      this.client = undefined;
      this.scheduleReconnect();
    }
  }

  private buildTransport() {
    const c = this.o.config;
    if (isHttpUpstream(c)) {
      return new StreamableHTTPClientTransport(new URL(c.url), {
        requestInit: { headers: { ...c.headers } },
        fetch: this.watchingFetch,
      });
    }
    const transport = new StdioClientTransport({
      command: c.command,
      args: c.args,
      env: { ...getDefaultEnvironment(), ...c.env },
      cwd: c.cwd,
      stderr: "pipe",
    });
    transport.stderr?.on("data", (chunk: Buffer) => {
      this.o.logger.debug(
        { upstream: this.name, stderr: chunk.toString("utf8").trimEnd() },
        "mcp upstream stderr",
      );
    });
    return transport;
  }

  /**
   * The HTTP transport's fetch, which also reads a copy of each streamed answer to a marked call:
   * the log messages in it belong to that call alone, and go to its caller. (The SDK's client hands
   * every notification to one connection-wide handler, which cannot tell whose call it was.)
   */
  private readonly watchingFetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const res = await fetch(input, init);
    const callId = typeof init?.body === "string" ? markedCall(init.body) : undefined;
    const listener = callId ? this.logListeners.get(callId) : undefined;
    if (!listener || !res.body || !res.headers.get("content-type")?.includes("text/event-stream")) return res;
    const [forClient, forLogs] = res.body.tee();
    void forwardLogs(forLogs, listener);
    return new Response(forClient, { status: res.status, statusText: res.statusText, headers: res.headers });
  };

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setStatus(this.connects === 0 ? "connecting" : this.status);
    const http = this.transport === "http";
    // HTTP upstreams are asked for 2026-07-28 first (server/discover, falling back to the 2025
    // handshake); an input_required answer is handed back, not fulfilled here. stdio upstreams keep
    // the 2025 connection, over which they may send sampling requests to the gateway.
    // A changed list upstream (tools, prompts, resources) re-reads the whole catalog.
    const onChanged = (kind: ListKind) => () => void this.refresh(client, kind);
    const client = new Client({ name: "edge-gateway", version: this.o.version }, {
      capabilities: this.o.sampling ? { sampling: {} } : {},
      listChanged: {
        tools: { autoRefresh: false, onChanged: onChanged("tools") },
        prompts: { autoRefresh: false, onChanged: onChanged("prompts") },
        resources: { autoRefresh: false, onChanged: onChanged("resources") },
      },
      ...(http ? { versionNegotiation: { mode: "auto" }, inputRequired: { autoFulfill: false } } : {}),
    } as never);
    if (this.o.sampling) {
      const answer = this.o.sampling;
      client.setRequestHandler("sampling/createMessage", async (request) => {
        return (await answer(request.params as Record<string, unknown>)) as never;
      });
    }
    const transport = this.buildTransport();
    try {
      await client.connect(transport, { timeout: this.o.callTimeoutMs } as never);
      if (this.stopped) {
        await client.close();
        return;
      }
      const catalog = await readCatalog(client);
      this.client = client;
      this.pid = transport instanceof StdioClientTransport ? (transport.pid ?? undefined) : undefined;
      this.connects++;
      if (this.connects > 1) this.reconnects++;
      this.backoffMs = this.o.reconnectMinMs;
      this.error = undefined;
      this.toolCount = catalog.tools.length;
      client.onclose = () => {
        if (this.client !== client) return;
        this.client = undefined;
        this.markDown(new Error("connection closed"));
        this.scheduleReconnect();
      };
      this.setStatus("up");
      this.o.logger.info({ upstream: this.name, tools: catalog.tools.length }, "mcp upstream connected");
      this.emit("catalog", catalog);
    } catch (error) {
      await client.close().catch(() => undefined);
      this.markDown(error);
      this.scheduleReconnect();
    }
  }

  private async refresh(client: Client, kind: ListKind): Promise<void> {
    if (this.client !== client) return;
    try {
      const catalog = await readCatalog(client);
      this.toolCount = catalog.tools.length;
      this.emit("catalog", catalog);
      this.emit("listChanged", kind);
    } catch (error) {
      this.o.logger.warn(
        { upstream: this.name, err: String(error) },
        "mcp upstream: re-reading its lists failed",
      );
    }
  }

  private markDown(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.status !== "down" || this.error !== message)
      this.o.logger.warn({ upstream: this.name, err: message }, "mcp upstream unreachable");
    this.error = message;
    this.setStatus("down");
  }

  private setStatus(status: UpstreamStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.emit("status", status);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const wait = this.backoffMs / 2 + Math.random() * (this.backoffMs / 2);
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.reconnectMaxMs);
    this.timer = setTimeout(() => void this.connect(), wait);
    this.timer.unref();
  }

  /** Connects now instead of at the next backoff step (e.g. an operator's retry). */
  retryNow(): void {
    if (this.status === "up" || this.stopped) return;
    clearTimeout(this.timer);
    this.backoffMs = this.o.reconnectMinMs;
    void this.connect();
  }
}

/** The CALL_META_KEY of a JSON-RPC message body, if it carries one. */
function markedCall(body: string): string | undefined {
  if (!body.includes(CALL_META_KEY)) return undefined;
  try {
    const message = JSON.parse(body) as { params?: { _meta?: Record<string, unknown> } };
    const id = message.params?._meta?.[CALL_META_KEY];
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Reads an SSE stream's events and passes each `notifications/message` on. */
async function forwardLogs(
  stream: ReadableStream<Uint8Array>,
  listener: (p: Record<string, unknown>) => void,
) {
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.search(/\r?\n\r?\n/);
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        const data = event
          .split(/\r?\n/)
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data) {
          try {
            const message = JSON.parse(data) as { method?: string; params?: Record<string, unknown> };
            if (message.method === "notifications/message" && message.params) listener(message.params);
          } catch {
            // Not JSON: the SDK's own reader reports it.
          }
        }
        end = buffer.search(/\r?\n\r?\n/);
      }
    }
  } catch {
    // The call ended or was aborted: the SDK's reader owns the errors.
  }
}

/** Reads every page of each list the upstream's capabilities say it serves. */
async function readCatalog(client: Client): Promise<Catalog> {
  const caps = client.getServerCapabilities() ?? {};
  const catalog: Catalog = { ...EMPTY_CATALOG, tools: [], resources: [], resourceTemplates: [], prompts: [] };
  if (caps.tools) catalog.tools = await pages((cursor) => client.listTools({ cursor }), "tools");
  if (caps.resources) {
    catalog.resources = await pages((cursor) => client.listResources({ cursor }), "resources");
    catalog.resourceTemplates = await pages(
      (cursor) => client.listResourceTemplates({ cursor }),
      "resourceTemplates",
    );
  }
  if (caps.prompts) catalog.prompts = await pages((cursor) => client.listPrompts({ cursor }), "prompts");
  catalog.capabilities = {
    completions: caps.completions !== undefined,
    subscribe: caps.resources?.subscribe === true,
    logging: caps.logging !== undefined,
  };
  return catalog;
}

const MAX_PAGES = 100;

async function pages<K extends string>(
  list: (cursor: string | undefined) => Promise<Record<string, unknown>>,
  key: K,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await list(cursor);
    out.push(...((page[key] as Record<string, unknown>[] | undefined) ?? []));
    cursor = page.nextCursor as string | undefined;
    if (!cursor) break;
  }
  return out;
}
