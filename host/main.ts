import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { createApp } from "./app.js";
import type { GatewayConfig } from "./config/index.js";
import { Core } from "./core/index.js";
import { probeDataDir } from "./data-dir.js";
import type { Logger } from "./logger.js";
import { createMetrics } from "./metrics/index.js";

export interface StartOptions {
  logger: Logger;
  /** The compiled policy core; build/core.wasm next to the package when absent. */
  wasmPath?: string;
  /** Close gracefully on SIGINT/SIGTERM. Off for tests that run several gateways in one process. */
  handleSignals?: boolean;
  /** How long in-flight requests may run on after a close before their connections are cut. */
  shutdownGraceMs?: number;
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
 * Wires the real dependencies and serves. The socket is bound before the core loads so liveness
 * answers at once and /ready says 503 meanwhile, the behaviour operators know from model servers.
 * Resolves once the core is loaded; a core that fails to load or fails its selftest closes the
 * socket and rejects, since a gateway without its policy cannot decide anything.
 */
export async function startGateway(
  config: GatewayConfig,
  { logger, wasmPath, handleSignals = true, shutdownGraceMs = 10_000 }: StartOptions,
): Promise<RunningGateway> {
  const dataDir = resolve(config.server.dataDir);
  let core: Core | undefined;
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

  const metrics = createMetrics({
    getCore: () => core,
    isReady: () => core !== undefined && dataDirWritable === true,
  });
  await checkDataDir();
  const app = createApp({ config, logger, metrics, getCore: () => core, checkDataDir });

  const server = await new Promise<ReturnType<typeof serve>>((resolveListen, rejectListen) => {
    const created = serve(
      { fetch: app.fetch, hostname: config.server.host, port: config.server.port },
      () => {
        created.off("error", rejectListen);
        resolveListen(created);
      },
    );
    created.once("error", rejectListen);
  });
  const url = formatUrl(server.address() as AddressInfo);
  logger.info({ url, dataDir, logLevel: config.log.level }, "listening");

  let closing: Promise<void> | undefined;
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolveClosed) => {
    markClosed = resolveClosed;
  });

  function close(): Promise<void> {
    closing ??= (async () => {
      for (const signal of SIGNALS) process.off(signal, onSignal);
      await closeServer(server, shutdownGraceMs);
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

  try {
    core = loadCore(config, wasmPath, logger);
  } catch (error) {
    await close();
    throw error;
  }
  logger.info({ memoryBytes: core.memoryBytes(), ready: dataDirWritable === true }, "policy core loaded");
  return { url, close, closed };
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

async function closeServer(server: ReturnType<typeof serve>, graceMs: number): Promise<void> {
  // Idle keep-alive connections are closed by close() itself (Node >= 19); busy ones get the grace.
  const timer = setTimeout(() => {
    if ("closeAllConnections" in server) server.closeAllConnections();
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
