import { ProtocolError as ClientProtocolError } from "@modelcontextprotocol/client";
import {
  createMcpHandler,
  type McpHttpHandler,
  type McpRequestContext,
  ProtocolError,
  Server,
  type ServerContext,
  UriTemplate,
} from "@modelcontextprotocol/server";
import type { Registry } from "prom-client";
import { z } from "zod";
import type { KeyRecord } from "../auth/index.js";
import type { Logger } from "../logger.js";
import type { QueueStore } from "../queue/index.js";
import { type Aggregate, aggregate, type Catalog, CatalogCache, EMPTY_CATALOG } from "./catalog.js";
import { isHttpUpstream, type McpConfig } from "./config.js";
import { type ChatFunction, GATEWAY_TOOLS, type GatewayToolDeps, runGatewayTool } from "./gateway-tools.js";
import { createMcpMetrics, type McpMetrics } from "./metrics.js";
import { TaskWorker } from "./task-worker.js";
import {
  declaresTasks,
  findTask,
  legacyTask,
  legacyTaskPayload,
  modernTask,
  TASKS_EXTENSION,
  type TaskTiming,
  type ToolCallPayload,
} from "./tasks.js";
import { neverReached, Upstream, type UpstreamState } from "./upstream.js";

export interface McpGatewayOptions {
  config: McpConfig;
  logger: Logger;
  registry: Registry;
  version: string;
  /** The durable queue; without it no call is ever turned into a task. */
  store?: QueueStore;
  /** Path of the queue database, where the catalogs are cached. */
  catalogPath?: string;
  /** The queue's core-driven retry schedule and worker settings. */
  core: GatewayToolDeps["core"] & ConstructorParameters<typeof TaskWorker>[0]["core"];
  worker: { concurrency: number; leaseMs: number; pollMs: number };
  /** A chat completion through the gateway's router, for edge_chat and for sampling. */
  chat: ChatFunction;
}

/** Whose request a handler serves: the authenticated key, as the auth middleware found it. */
interface Caller {
  client: KeyRecord;
}

const TaskIdParams = z.object({ taskId: z.string().min(1) }).passthrough();
const ListParams = z.object({ cursor: z.string().optional() }).passthrough();

/**
 * The MCP side of the gateway: upstream connections, the aggregated catalog, the durable task
 * queue for calls to unreachable upstreams, and the `/mcp` handler (the official SDK's stateless
 * serving, which answers 2026-07-28 requests and 2025-11-25 clients alike).
 */
export class McpGateway {
  readonly handler: McpHttpHandler;
  readonly upstreams = new Map<string, Upstream>();
  private readonly catalogs = new Map<string, Catalog>();
  private readonly cache: CatalogCache | undefined;
  private readonly metrics: McpMetrics;
  private readonly worker: TaskWorker | undefined;
  private view: Aggregate;
  private readonly timing: TaskTiming;

  constructor(private readonly o: McpGatewayOptions) {
    const { config, logger } = o;
    this.timing = { ttlMs: config.taskTtlMs, pollMs: config.taskPollMs };
    this.metrics = createMcpMetrics(o.registry, () => this.states());
    this.cache = o.catalogPath ? new CatalogCache(o.catalogPath) : undefined;
    const sampling = config.sampling ? (params: Record<string, unknown>) => this.sample(params) : undefined;
    for (const upstreamConfig of config.upstreams) {
      const upstream = new Upstream({
        config: upstreamConfig,
        logger,
        version: o.version,
        reconnectMinMs: config.reconnectMinMs,
        reconnectMaxMs: config.reconnectMaxMs,
        callTimeoutMs: config.callTimeoutMs,
        sampling,
      });
      const cached = this.cache?.load(upstreamConfig.name);
      this.catalogs.set(upstreamConfig.name, cached?.catalog ?? EMPTY_CATALOG);
      upstream.on("catalog", (catalog) => {
        const before = this.catalogs.get(upstreamConfig.name);
        this.catalogs.set(upstreamConfig.name, catalog);
        this.rebuild();
        if (before) this.announceChanges(before, catalog);
        try {
          this.cache?.save(upstreamConfig.name, catalog);
        } catch (error) {
          logger.warn({ err: error, upstream: upstreamConfig.name }, "mcp: catalog cache write failed");
        }
      });
      // Passed on as announced, changed or not: the client re-reads and decides.
      upstream.on("listChanged", (kind) => {
        if (kind === "tools") this.handler.notify.toolsChanged();
        else if (kind === "prompts") this.handler.notify.promptsChanged();
        else this.handler.notify.resourcesChanged();
      });
      this.upstreams.set(upstreamConfig.name, upstream);
    }
    this.view = this.aggregateNow();
    this.worker =
      o.store &&
      new TaskWorker({
        store: o.store,
        core: o.core,
        logger,
        metrics: this.metrics,
        upstreams: this.upstreams,
        ...o.worker,
      });
    this.handler = createMcpHandler((ctx) => this.serverFor(ctx), {
      onerror: (error) => logger.debug({ err: error.message }, "mcp: request error"),
      // A JSON answer unless a handler streams notifications first (progress from an upstream).
      responseMode: "auto",
    });
  }

  start(): void {
    for (const u of this.upstreams.values()) u.start();
    this.worker?.start();
  }

  async stop(): Promise<void> {
    await this.worker?.stop();
    await this.handler.close().catch(() => undefined);
    await Promise.allSettled([...this.upstreams.values()].map((u) => u.stop()));
    this.cache?.close();
  }

  states(): UpstreamState[] {
    return [...this.upstreams.values()].map((u) => u.state());
  }

  /** Serves one HTTP request to `/mcp` for an authenticated client; the body is already parsed. */
  fetch(request: Request, parsedBody: unknown, client: KeyRecord): Promise<Response> {
    return this.handler.fetch(request, {
      parsedBody,
      authInfo: { token: "", clientId: client.id, scopes: [...client.scopes], extra: { client } },
    });
  }

  private rebuild(): void {
    this.view = this.aggregateNow();
  }

  /** Tells listening clients (2026-07-28 subscriptions/listen) which aggregated lists changed. */
  private announceChanges(before: Catalog | undefined, after: Catalog): void {
    const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
    if (differs(before?.tools, after.tools)) this.handler.notify.toolsChanged();
    if (differs(before?.prompts, after.prompts)) this.handler.notify.promptsChanged();
    if (
      differs(before?.resources, after.resources) ||
      differs(before?.resourceTemplates, after.resourceTemplates)
    )
      this.handler.notify.resourcesChanged();
  }

  private aggregateNow(): Aggregate {
    return aggregate(
      this.o.config.upstreams.map((config) => ({
        config,
        catalog: this.catalogs.get(config.name) ?? EMPTY_CATALOG,
      })),
    );
  }

  private callerOf(ctx: ServerContext): Caller {
    const client = (ctx.http?.authInfo?.extra as { client?: KeyRecord } | undefined)?.client;
    if (!client) throw new ProtocolError(-32603, "request without an authenticated client");
    return { client };
  }

  /** One low-level server per request: the SDK's stateless serving builds and drops it. */
  private serverFor(ctx: McpRequestContext): Server {
    const legacy = ctx.era === "legacy";
    const anyCap = (key: keyof Catalog["capabilities"]) =>
      [...this.catalogs.values()].some((c) => c.capabilities[key]);
    const server = new Server(
      { name: "edge-gateway", version: this.o.version },
      {
        capabilities: {
          tools: { listChanged: true },
          resources: { listChanged: true, ...(anyCap("subscribe") ? { subscribe: true } : {}) },
          prompts: { listChanged: true },
          ...(anyCap("completions") ? { completions: {} } : {}),
          ...(anyCap("logging") ? { logging: {} } : {}),
          ...(this.o.store
            ? legacy
              ? { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } }
              : { extensions: { "io.modelcontextprotocol/tasks": {} } }
            : {}),
        } as never,
      },
    );

    server.setRequestHandler("tools/list", async () => ({ tools: this.listTools(legacy) }) as never);
    server.setRequestHandler(
      "tools/call",
      async (request, c) => (await this.callTool(request.params, c, legacy)) as never,
    );
    server.setRequestHandler("resources/list", async () => ({ resources: this.view.resources }) as never);
    server.setRequestHandler(
      "resources/templates/list",
      async () => ({ resourceTemplates: this.view.resourceTemplates }) as never,
    );
    server.setRequestHandler("resources/read", async (request, c) =>
      this.forward(
        this.resourceUpstream(String(request.params.uri)),
        "resources/read",
        request.params,
        c,
        !legacy,
      ),
    );
    server.setRequestHandler("prompts/list", async () => ({ prompts: this.view.prompts }) as never);
    server.setRequestHandler("prompts/get", async (request, c) => {
      const route = this.view.promptRoutes.get(request.params.name);
      if (!route) throw new ProtocolError(-32602, `Unknown prompt: ${request.params.name}`);
      return this.forward(route.upstream, "prompts/get", { ...request.params, name: route.name }, c, !legacy);
    });
    if (anyCap("completions")) {
      server.setRequestHandler("completion/complete", async (request, c) => {
        const ref = request.params.ref as { type: string; name?: string; uri?: string };
        if (ref.type === "ref/prompt") {
          const route = this.view.promptRoutes.get(String(ref.name));
          if (!route) throw new ProtocolError(-32602, `Unknown prompt: ${ref.name}`);
          return this.forward(
            route.upstream,
            "completion/complete",
            { ...request.params, ref: { ...ref, name: route.name } },
            c,
          );
        }
        return this.forward(this.resourceUpstream(String(ref.uri)), "completion/complete", request.params, c);
      });
    }
    if (anyCap("subscribe")) {
      for (const method of ["resources/subscribe", "resources/unsubscribe"] as const) {
        server.setRequestHandler(method, async (request, c) => {
          const upstream = this.upstreams.get(this.resourceUpstream(String(request.params.uri)));
          // 2026-07-28 replaced these with subscriptions/listen; a 2025 client's request is
          // acknowledged, as a stateless server acknowledges it (it has no stream to notify on).
          if (upstream?.modern) return {} as never;
          return this.forward(this.resourceUpstream(String(request.params.uri)), method, request.params, c);
        });
      }
    }
    if (this.o.store) this.registerTaskMethods(server, legacy);
    return server;
  }

  private listTools(legacy: boolean): Record<string, unknown>[] {
    const tools = this.view.tools.map((tool) => {
      const route = this.view.toolRoutes.get(String(tool.name));
      // 2025-11-25 clients send a task-augmented call only to tools that declare task support.
      if (legacy && this.o.store && route && this.isQueueable(route.upstream, route.name))
        return { ...tool, execution: { ...(tool.execution as object | undefined), taskSupport: "optional" } };
      return tool;
    });
    return this.o.config.gatewayTools ? [...tools, ...GATEWAY_TOOLS] : tools;
  }

  private isQueueable(upstream: string, tool: string): boolean {
    const config = this.o.config.upstreams.find((u) => u.name === upstream);
    return config !== undefined && isHttpUpstream(config) && (config.queueable?.includes(tool) ?? false);
  }

  private resourceUpstream(uri: string): string {
    const listed = this.view.resourceRoutes.get(uri);
    if (listed) return listed;
    for (const { upstream, uriTemplate } of this.view.templateUpstreams) {
      try {
        if (new UriTemplate(uriTemplate).match(uri)) return upstream;
      } catch {
        // A template the SDK cannot parse matches nothing.
      }
    }
    const only = this.o.config.upstreams.length === 1 ? this.o.config.upstreams[0]?.name : undefined;
    if (only) return only;
    throw new ProtocolError(-32602, `Resource not found: ${uri}`, { uri });
  }

  /**
   * Forwards a request to an upstream and its answer back; JSON-RPC errors keep their codes. With
   * `multiRound` (a 2026-07-28 client) an `input_required` answer goes back to the client, and the
   * client's retry carries its `inputResponses` and `requestState` through to the upstream.
   */
  private async forward(
    upstreamName: string,
    method: string,
    params: Record<string, unknown>,
    ctx: ServerContext,
    multiRound = false,
  ) {
    const upstream = this.upstreams.get(upstreamName);
    if (!upstream) throw new ProtocolError(-32602, `Unknown upstream: ${upstreamName}`);
    try {
      const sent = withCallerMeta(
        { ...stripEnvelope(params), ...(multiRound ? roundInputs(ctx) : {}) },
        ctx,
        !multiRound,
        upstream.modern,
      );
      return (await upstream.request(method, sent, ctx.mcpReq.signal, multiRound)) as never;
    } catch (error) {
      throw asProtocolError(error);
    }
  }

  private async callTool(
    params: {
      name: string;
      arguments?: Record<string, unknown>;
      task?: unknown;
      _meta?: Record<string, unknown>;
    },
    ctx: ServerContext,
    legacy: boolean,
  ): Promise<Record<string, unknown>> {
    const caller = this.callerOf(ctx);
    const gatewayTool = this.o.config.gatewayTools
      ? GATEWAY_TOOLS.find((t) => t.name === params.name)
      : undefined;
    const started = performance.now();
    if (gatewayTool) {
      const result = await runGatewayTool(gatewayTool.name, params.arguments ?? {}, {
        client: caller.client,
        chat: this.o.chat,
        store: this.o.store,
        core: this.o.core,
        upstreams: () => this.states(),
      });
      this.observe("gateway", gatewayTool.name, result.isError ? "tool_error" : "ok", started);
      return result;
    }
    const route = this.view.toolRoutes.get(params.name);
    if (!route) throw new ProtocolError(-32602, `Unknown tool: ${params.name}`);
    const upstream = this.upstreams.get(route.upstream);
    if (!upstream) throw new ProtocolError(-32602, `Unknown tool: ${params.name}`);
    const wantsTask = legacy ? params.task !== undefined : declaresTasks(ctx.mcpReq.envelope as never);
    const queueable = this.o.store !== undefined && this.isQueueable(route.upstream, route.name);
    const payload: ToolCallPayload = {
      upstream: route.upstream,
      name: route.name,
      ...(params.arguments === undefined ? {} : { arguments: params.arguments }),
    };
    // A 2025-11-25 task-augmented call always becomes a task: that client expects a task back.
    if (queueable && wantsTask && (legacy || !upstream.up))
      return this.createTask(payload, caller, legacy, started);
    if (!upstream.up) return this.offline(route.upstream, route.name, started);
    const progressToken = ctx.mcpReq._meta?.progressToken;
    try {
      const result = await upstream.callTool(
        withCallerMeta(
          {
            name: route.name,
            ...(params.arguments === undefined ? {} : { arguments: params.arguments }),
            ...(legacy ? {} : roundInputs(ctx)),
          },
          ctx,
          legacy,
          upstream.modern,
        ) as { name: string },
        {
          signal: ctx.mcpReq.signal,
          allowInputRequired: !legacy,
          onlog: (log) =>
            void ctx.mcpReq.notify({ method: "notifications/message", params: log }).catch(() => undefined),
          ...(progressToken === undefined
            ? {}
            : {
                onprogress: (p) =>
                  void ctx.mcpReq
                    .notify({ method: "notifications/progress", params: { ...p, progressToken } })
                    .catch(() => undefined),
              }),
        },
      );
      this.observe(route.upstream, route.name, result.isError === true ? "tool_error" : "ok", started);
      return result;
    } catch (error) {
      if (neverReached(error)) {
        if (queueable && wantsTask) return this.createTask(payload, caller, legacy, started);
        return this.offline(route.upstream, route.name, started);
      }
      this.observe(route.upstream, route.name, "error", started);
      throw asProtocolError(error);
    }
  }

  private observe(upstream: string, tool: string, outcome: string, started: number): void {
    this.metrics.calls.inc({ upstream, tool, outcome });
    this.metrics.callSeconds.observe({ upstream, tool }, (performance.now() - started) / 1000);
  }

  /** The durable path: the call is committed to the queue, then the task is returned. */
  private async createTask(
    payload: ToolCallPayload,
    caller: Caller,
    legacy: boolean,
    started: number,
  ): Promise<Record<string, unknown>> {
    const store = this.o.store;
    if (!store) throw new ProtocolError(-32603, "the durable queue is not available");
    const queued = await store.enqueue({
      clientId: caller.client.id,
      kind: "mcp_tool_call",
      target: `mcp/${payload.upstream}`,
      endpoint: "tools/call",
      payload: Buffer.from(JSON.stringify(payload)),
      priority: 2,
    });
    if (!queued.ok) {
      this.observe(payload.upstream, payload.name, "error", started);
      return toolError(
        `The gateway's queue is full (${queued.message}); the call to '${payload.name}' was not executed.`,
      );
    }
    this.metrics.tasks.inc({ upstream: payload.upstream, outcome: "queued" });
    this.observe(payload.upstream, payload.name, "queued", started);
    this.o.logger.info(
      { id: queued.item.id, upstream: payload.upstream, tool: payload.name },
      "mcp task queued",
    );
    // The SDK checks every tools/call answer against CallToolResult; a text block alongside the
    // 2025-11-25 `task` satisfies it and tells a task-unaware reader what happened.
    if (legacy)
      return {
        task: legacyTask(queued.item, this.timing),
        content: [{ type: "text", text: `Queued as task ${queued.item.id}.` }],
      };
    return { resultType: "task", ...modernTask(queued.item, this.timing) };
  }

  private offline(upstream: string, tool: string, started: number): Record<string, unknown> {
    this.observe(upstream, tool, "offline", started);
    return toolError(`Upstream '${upstream}' is offline; the call to '${tool}' was not executed.`);
  }

  private registerTaskMethods(server: Server, legacy: boolean): void {
    const store = this.o.store as QueueStore;
    const find = (taskId: string, ctx: ServerContext) => {
      const item = findTask(store, taskId, this.callerOf(ctx).client.id);
      if (!item) throw new ProtocolError(-32602, "Failed to retrieve task: Task not found");
      return item;
    };
    server.setRequestHandler("tasks/get", { params: TaskIdParams }, async (params, ctx) => {
      const item = find(params.taskId, ctx);
      return (legacy ? legacyTask(item, this.timing) : modernTask(item, this.timing)) as never;
    });
    server.setRequestHandler("tasks/cancel", { params: TaskIdParams }, async (params, ctx) => {
      const item = find(params.taskId, ctx);
      const outcome = store.cancel(item.id);
      if (legacy && outcome !== "cancelled" && outcome !== "queued")
        throw new ProtocolError(
          -32602,
          `Cannot cancel task: it is already ${legacyTask(item, this.timing).status}`,
        );
      const now = store.get(item.id) ?? item;
      return (legacy ? legacyTask(now, this.timing) : {}) as never;
    });
    if (!legacy) return;
    server.setRequestHandler("tasks/result", { params: TaskIdParams }, async (params, ctx) => {
      const item = find(params.taskId, ctx);
      const payload = legacyTaskPayload(item);
      if (!payload)
        throw new ProtocolError(-32602, "Task is still working; poll tasks/get until it finishes");
      if ("error" in payload) {
        const e = payload.error as { code?: number; message?: string; data?: unknown };
        throw new ProtocolError(e.code ?? -32603, e.message ?? "The call failed.", e.data);
      }
      return {
        ...payload.result,
        _meta: { "io.modelcontextprotocol/related-task": { taskId: item.id } },
      } as never;
    });
    server.setRequestHandler("tasks/list", { params: ListParams }, async (_params, ctx) => {
      const client = this.callerOf(ctx).client.id;
      const tasks = store
        .list(null, 200)
        .filter((i) => i.kind === "mcp_tool_call" && i.clientId === client)
        .map((i) => legacyTask(i, this.timing));
      return { tasks } as never;
    });
  }

  /** Sampling from an upstream, answered by a local model: what a tool asks stays on the device. */
  private async sample(params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const messages = (params.messages as { role: string; content: { type: string; text?: string } }[]) ?? [];
    const chatMessages = [
      ...(typeof params.systemPrompt === "string" ? [{ role: "system", content: params.systemPrompt }] : []),
      ...messages.map((m) => ({
        role: m.role,
        content: m.content?.type === "text" ? (m.content.text ?? "") : "",
      })),
    ];
    const completion = await this.o.chat({
      model: "local",
      messages: chatMessages,
      ...(typeof params.maxTokens === "number" ? { max_tokens: params.maxTokens } : {}),
      ...(typeof params.temperature === "number" ? { temperature: params.temperature } : {}),
    });
    return {
      role: "assistant",
      content: { type: "text", text: completion.text },
      model: completion.model,
      stopReason: completion.finishReason === "length" ? "maxTokens" : "endTurn",
    };
  }
}

const CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities";
const LOG_LEVEL_KEY = "io.modelcontextprotocol/logLevel";

/**
 * The caller's say in what a 2026-07-28 upstream may ask and tell: a 2026-07-28 client's declared
 * capabilities (so the upstream asks it only for input it can give; the tasks extension stays with
 * the gateway, which runs tasks itself) and its log level; a 2025-11-25 client, which sets no
 * per-request level, gets every log message, as a 2025 server would send them.
 */
function withCallerMeta(
  params: Record<string, unknown>,
  ctx: ServerContext,
  legacy: boolean,
  upstreamModern: boolean,
): Record<string, unknown> {
  if (!upstreamModern) return params;
  const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
  const meta: Record<string, unknown> = { ...(params._meta as Record<string, unknown> | undefined) };
  if (legacy) meta[LOG_LEVEL_KEY] = "debug";
  else {
    const caps = envelope[CAPABILITIES_KEY] as { extensions?: Record<string, unknown> } | undefined;
    if (caps) {
      const { [TASKS_EXTENSION]: _tasks, ...extensions } = caps.extensions ?? {};
      meta[CAPABILITIES_KEY] = { ...caps, ...(caps.extensions ? { extensions } : {}) };
    }
    if (envelope[LOG_LEVEL_KEY] !== undefined) meta[LOG_LEVEL_KEY] = envelope[LOG_LEVEL_KEY];
  }
  return { ...params, _meta: meta };
}

/**
 * What a 2026-07-28 client's retry of a multi-round-trip request carries for the upstream: its
 * answers to the upstream's input requests and the upstream's opaque state, byte for byte.
 */
function roundInputs(ctx: ServerContext): Record<string, unknown> {
  const inputResponses = ctx.mcpReq.inputResponses;
  const requestState = ctx.mcpReq.requestState();
  return {
    ...(inputResponses === undefined ? {} : { inputResponses }),
    ...(requestState === undefined ? {} : { requestState }),
  };
}

function toolError(text: string): Record<string, unknown> {
  return { content: [{ type: "text", text }], isError: true };
}

/** The reserved envelope keys belong to this hop; the upstream connection adds its own. */
function stripEnvelope(params: Record<string, unknown>): Record<string, unknown> {
  const meta = params._meta as Record<string, unknown> | undefined;
  if (!meta) return params;
  const kept = Object.fromEntries(
    Object.entries(meta).filter(([k]) => !k.startsWith("io.modelcontextprotocol/")),
  );
  const { _meta: _, ...rest } = params;
  return Object.keys(kept).length > 0 ? { ...rest, _meta: kept } : rest;
}

/** An upstream's JSON-RPC error goes to the client with its code; anything else is internal. */
function asProtocolError(error: unknown): Error {
  if (error instanceof ProtocolError) return error;
  if (error instanceof ClientProtocolError) return new ProtocolError(error.code, error.message, error.data);
  if (neverReached(error))
    return new ProtocolError(-32603, error instanceof Error ? error.message : String(error));
  return new ProtocolError(
    -32603,
    `upstream error: ${error instanceof Error ? error.message : String(error)}`,
  );
}
