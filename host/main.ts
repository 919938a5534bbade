import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { getRequestListener } from "@hono/node-server";
import { createApp } from "./app.js";
import { createAnonymousRecord, createKeyring, isLoopbackHost, SCOPES } from "./auth/index.js";
import { systemClock } from "./clock.js";
import type { GatewayConfig } from "./config/index.js";
import { CloudMonitor } from "./connectivity/cloud-monitor.js";
import { Circuit, Core, codeName } from "./core/index.js";
import { probeDataDir } from "./data-dir.js";
import { errorResponse } from "./errors.js";
import { prepareLocalModels, runLocalModels } from "./local-models.js";
import type { Logger } from "./logger.js";
import type { McpGateway } from "./mcp/gateway.js";
import { createMetrics } from "./metrics/index.js";
import { internalChat } from "./openai/internal-chat.js";
import { createQueueMetrics, QueueStore, SyncWorker } from "./queue/index.js";
import { buildTargets, type ProviderFactory } from "./routing/targets.js";
import type { RunnerSupervisor } from "./runner/index.js";
import { baselineTierForLaterWasm, hasDeployedFlags, heapLimitMb } from "./runtime.js";
import type { StatusSnapshot } from "./status/route.js";
import { readVersion } from "./version.js";

export interface StartOptions {
  logger: Logger;
  /** The compiled policy core; build/core.wasm next to the package when absent. */
  wasmPath?: string;
  /** Close gracefully on SIGINT/SIGTERM. Off for tests that run several gateways in one process. */
  handleSignals?: boolean;
  /** How long in-flight requests may run on after a close before their connections are cut. */
  shutdownGraceMs?: number;
  /** Builds each target's provider; the OpenAI-compatible one by default. */
  createProvider?: ProviderFactory;
}

export interface RunningGateway {
  /** Base URL of the bound socket, e.g. `http://127.0.0.1:8080` (the real port when 0 was asked). */
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), then resolves. */
  close(): Promise<void>;
  /** Resolves once the gateway has closed, whether by close() or by a signal. */
  closed: Promise<void>;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Wires the real dependencies and serves. The policy core loads first (milliseconds: a gateway
 * without its policy cannot decide anything, so a core that fails to load or fails its selftest
 * stops start-up). The data directory is re-checked by /ready on every call.
 */
export async function startGateway(
  config: GatewayConfig,
  { logger, wasmPath, handleSignals = true, shutdownGraceMs = 10_000, createProvider }: StartOptions,
): Promise<RunningGateway> {
  const dataDir = resolve(config.server.dataDir);
  let dataDirWritable: boolean | undefined;

  // Logs only on a change, so a probe polling /ready every second does not flood the log.
  async function checkDataDir(): Promise<boolean> {
    const status = await probeDataDir(dataDir);
    if (status.writable !== dataDirWritable) {
      if (status.writable) logger.info({ dataDir }, "data directory is writable");
      else
        logger.error(
          { dataDir, reason: status.reason },
          "data directory is not writable; /ready answers 503",
        );
    }
    dataDirWritable = status.writable;
    return status.writable;
  }

  const keyring = createKeyring({ envKeys: config.auth.envKeys, keys: config.auth.keys });
  if (keyring.size === 0 && !isLoopbackHost(config.server.host)) {
    throw new Error(
      `refusing to serve on ${config.server.host} without an API key: set GATEWAY_API_KEYS or auth.keys, or bind 127.0.0.1`,
    );
  }
  let core: Core | undefined = loadCore(config, wasmPath, logger);
  baselineTierForLaterWasm();
  const tiers = core.tierNames();
  for (const key of keyring.records()) {
    if (!tiers.includes(key.tier)) {
      throw new Error(
        `API key '${key.id}' has tier '${key.tier}', which core.limiter.tiers does not define (${tiers.join(", ")})`,
      );
    }
  }
  // Built-in models first, then local model servers, then the cloud: the core's target numbering.
  const local = await prepareLocalModels(config, logger);
  const targets = [...(local?.targets ?? []), ...buildTargets(config, createProvider)].map((t, index) => ({
    ...t,
    index,
  }));
  core.configureTargets(targets.map((t) => t.spec));
  const routing = { ...config.routing, aliases: { ...local?.aliases, ...config.routing.aliases } };
  const cloud = targets.find((t) => t.kind === "cloud");
  const monitor = cloud
    ? new CloudMonitor({
        provider: cloud.provider,
        core,
        logger,
        intervalMs: config.cloud.probeIntervalMs,
        minMs: config.cloud.probeMinMs,
        maxMs: config.cloud.probeMaxMs,
        passiveFailures: config.cloud.passiveFailures,
      })
    : undefined;
  const loaded = core;
  const circuits = () =>
    targets.map((t) => ({ target: t.id, state: loaded.circuit(t.index, systemClock.nowMs()) as number }));

  // The durable queue: its rows must survive power cuts, so it lives in the data directory.
  // Without it the gateway still serves, unready and without a queue, until the directory is fixed
  // and the gateway restarted.
  const store = openQueue(dataDir, config, logger);
  const metrics = createMetrics({
    getCore: () => core,
    isReady: () => core !== undefined && dataDirWritable === true,
    targets: { circuits, cloudReachable: () => monitor?.reachable },
  });
  const queueMetrics = createQueueMetrics(metrics.registry, () => store);
  const worker =
    store &&
    new SyncWorker({
      store,
      core,
      clock: systemClock,
      logger,
      metrics: queueMetrics,
      targets,
      monitor,
      concurrency: config.queue.concurrency,
      leaseMs: config.queue.leaseMs,
      pollMs: config.queue.pollMs,
      retentionMs: config.queue.retentionMs,
    });
  await checkDataDir();
  // Without keys the gateway serves loopback only: its one user is the device's operator.
  const anonymous = createAnonymousRecord(tiers[0], SCOPES);
  const apiDeps = {
    core,
    clock: systemClock,
    metrics: metrics.gateway,
    logger,
    targets,
    routing,
    health: config.core.health,
    bodyLimitBytes: config.server.bodyLimitBytes,
    monitor,
    keyring,
    anonymous,
    offline: store && { store, config: config.queue },
  };
  // The MCP side loads with its SDK at start when upstreams are configured, else on the first
  // request to /mcp: a gateway nobody speaks MCP to does not carry it.
  let mcp: McpGateway | undefined;
  let mcpLoading: Promise<McpGateway> | undefined;
  const loadMcp = (): Promise<McpGateway> => {
    mcpLoading ??= import("./mcp/gateway.js").then(({ McpGateway }) => {
      mcp = new McpGateway({
        config: config.mcp,
        logger,
        registry: metrics.registry,
        version: readVersion(),
        store,
        catalogPath: store ? join(dataDir, "queue.db") : undefined,
        core: loaded,
        worker: {
          concurrency: config.queue.concurrency,
          leaseMs: config.queue.leaseMs,
          pollMs: config.queue.pollMs,
        },
        chat: internalChat(apiDeps, anonymous),
      });
      mcp.start();
      return mcp;
    });
    return mcpLoading;
  };
  const startedAtMs = Date.now();
  const status = (): StatusSnapshot => {
    const nowMs = systemClock.nowMs();
    const runner = local ? runnerSummary(local.supervisor) : null;
    const stats = store?.stats();
    return {
      version: readVersion(),
      nowMs: Date.now(),
      startedAtMs,
      ready: core !== undefined && dataDirWritable === true && store !== undefined,
      cloud: monitor && cloud ? { target: cloud.id, reachable: monitor.reachable } : null,
      targets: targets.map((t) => ({
        id: t.id,
        kind: t.kind,
        circuit: codeName(Circuit, loaded.circuit(t.index, nowMs)),
        latencyMs: loaded.latencyMs(t.index),
        errorRate: loaded.errorRate(t.index, nowMs),
        inflight: loaded.inflight(t.index),
      })),
      runner: runner && {
        status: runner.status,
        restarts: runner.restarts,
        ...(runner.pid === undefined ? {} : { pid: runner.pid }),
        ...(runner.failure === undefined ? {} : { failure: String(runner.failure) }),
      },
      models: runner?.models ?? [],
      queue: stats ? { byStatus: stats.byStatus, oldestActiveAtMs: stats.oldestActiveAtMs } : null,
      decisions: metrics.gateway.recentDecisions.list(),
      rejections: metrics.gateway.recentRejections.list(),
      rejectionTotals: [...metrics.gateway.rejectionTotals].map(([key, count]) => {
        const [tier = "", limit = ""] = key.split("/");
        return { tier, limit, count };
      }),
      mcp: config.mcp.enabled ? (mcp?.states() ?? []) : null,
    };
  };
  const app = createApp({
    config,
    logger,
    metrics,
    getCore: () => core,
    checkDataDir: async () => (await checkDataDir()) && store !== undefined,
    api: apiDeps,
    mcp: config.mcp.enabled ? loadMcp : undefined,
    status,
    loopbackBind: isLoopbackHost(config.server.host),
    readyDetails: () => ({
      runner: local ? runnerSummary(local.supervisor) : null,
      cloud: monitor ? { target: cloud?.id, reachable: monitor.reachable } : null,
      targets: circuits().map(({ target, state }) => ({ target, circuit: codeName(Circuit, state) })),
      queue: store ? store.stats().byStatus : null,
      mcp: config.mcp.enabled ? { upstreams: mcp?.states() ?? [] } : null,
    }),
  });

  // A request Node can parse but the adapter cannot turn into a URL (e.g. backslashes in the path)
  // never reaches the app; answer it in the same error shape instead of an empty 400.
  const listener = getRequestListener(app.fetch, {
    hostname: config.server.host,
    errorHandler: () => {
      const { body, status } = errorResponse("invalid_request", "The request line is malformed.", "url");
      return Response.json(body, { status, headers: { "x-request-id": randomUUID() } });
    },
  });
  const server = createServer(listener);
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(config.server.port, config.server.host, () => {
      server.off("error", rejectListen);
      resolveListen();
    });
  });
  const url = formatUrl(server.address() as AddressInfo);
  logger.info(
    {
      url,
      dataDir,
      targets: targets.map((t) => t.id),
      keys: keyring.size,
      logLevel: config.log.level,
      heapLimitMb: heapLimitMb(),
      deployedNodeFlags: hasDeployedFlags(),
    },
    "listening",
  );
  monitor?.start();
  const stopLocal = local && runLocalModels(local, targets, loaded, metrics.registry, logger);
  worker?.start();
  if (config.mcp.enabled && config.mcp.upstreams.length > 0) await loadMcp();

  let closing: Promise<void> | undefined;
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolveClosed) => {
    markClosed = resolveClosed;
  });

  function close(): Promise<void> {
    closing ??= (async () => {
      for (const signal of SIGNALS) process.off(signal, onSignal);
      monitor?.stop();
      await stopLocal?.();
      await worker?.stop();
      await mcpLoading?.then((m) => m.stop()).catch(() => undefined);
      await closeServer(server, shutdownGraceMs);
      await Promise.allSettled(targets.map((t) => t.provider.close()));
      store?.close();
      core = undefined;
      logger.info("stopped");
      markClosed();
    })();
    return closing;
  }

  function onSignal(signal: NodeJS.Signals): void {
    if (closing !== undefined) {
      // A second Ctrl-C means "now": the operator has chosen not to wait for in-flight requests.
      logger.warn({ signal }, "second signal while closing; exiting now");
      process.exit(1);
    }
    logger.info({ signal }, "shutting down");
    close().catch((error: unknown) => logger.error({ err: error }, "close failed"));
  }

  if (handleSignals) for (const signal of SIGNALS) process.on(signal, onSignal);
  logger.info({ memoryBytes: loaded.memoryBytes(), ready: dataDirWritable === true }, "policy core loaded");
  return { url, close, closed };
}

/** What /ready shows of the model runner: its status and each model's state. */
function runnerSummary(supervisor: RunnerSupervisor) {
  const state = supervisor.state();
  return {
    status: state.status,
    ...(state.pid === undefined ? {} : { pid: state.pid }),
    restarts: state.restarts,
    ...(state.failure === undefined ? {} : { failure: state.failure }),
    models: state.models.map((m) => ({
      id: m.id,
      state: m.state,
      running: m.running,
      queued: m.queued,
      ...(m.error === undefined ? {} : { error: m.error }),
    })),
  };
}

function openQueue(dataDir: string, config: GatewayConfig, logger: Logger): QueueStore | undefined {
  try {
    mkdirSync(dataDir, { recursive: true });
    return new QueueStore(join(dataDir, "queue.db"), {
      limits: { maxRows: config.queue.maxRows, maxBytes: config.queue.maxBytes },
    });
  } catch (error) {
    logger.error(
      { err: error, dataDir },
      "the offline queue cannot be opened; serving without it, /ready answers 503",
    );
    return undefined;
  }
}

function loadCore(config: GatewayConfig, wasmPath: string | undefined, logger: Logger): Core {
  let core: Core;
  try {
    core = Core.load(config.core, {
      wasmPath,
      onTrap: (op, error) => logger.error({ op, err: error }, "policy core trapped; re-instantiated it"),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`policy core failed to load: ${reason}`, { cause: error });
  }
  const result = core.selftest();
  if (result !== 0) throw new Error(`policy core failed its selftest (code ${result})`);
  return core;
}

function formatUrl({ address, family, port }: AddressInfo): string {
  const host = family === "IPv6" ? `[${address}]` : address;
  return `http://${host}:${port}`;
}

async function closeServer(server: Server, graceMs: number): Promise<void> {
  // Idle keep-alive connections are closed by close() itself (Node >= 19); busy ones get the grace.
  const timer = setTimeout(() => {
    server.closeAllConnections();
  }, graceMs);
  timer.unref();
  try {
    await new Promise<void>((resolveClose, rejectClose) => {
      server.close((error) => (error ? rejectClose(error) : resolveClose()));
    });
  } finally {
    clearTimeout(timer);
  }
}
