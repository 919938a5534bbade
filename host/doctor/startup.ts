import { existsSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { createKeyring, isLoopbackHost, type KeyRecord } from "../auth/index.js";
import type { GatewayConfig } from "../config/index.js";
import { Core, defaultWasmPath } from "../core/index.js";
import { type CheckResult, errorMessage, fail, ok, warn } from "./types.js";

const REBUILD = "npm run build (npm install runs it too)";

/**
 * Loads the policy core and runs its selftest, as start-up does: without it the gateway refuses to
 * start. Returns the tier names, which the key check needs.
 */
export function checkCore(
  config: GatewayConfig,
  wasmPath = defaultWasmPath(),
): { result: CheckResult; tiers?: string[] } {
  if (!existsSync(wasmPath)) {
    return { result: fail("policy core", `${wasmPath} is missing`, REBUILD) };
  }
  let core: Core;
  try {
    core = Core.load(config.core, { wasmPath });
  } catch (error) {
    return { result: fail("policy core", `cannot be loaded: ${errorMessage(error)}`, REBUILD) };
  }
  let code: number;
  try {
    code = core.selftest();
  } catch (error) {
    return { result: fail("policy core", `selftest trapped: ${errorMessage(error)}`, REBUILD) };
  }
  if (code !== 0) {
    return {
      result: fail(
        "policy core",
        `selftest failed (code ${code})`,
        `${REBUILD}; if it still fails, report the code with the output of edge-gateway --version`,
      ),
    };
  }
  const sizeKb = (statSync(wasmPath).size / 1024).toFixed(1);
  return { result: ok("policy core", `selftest passed (${sizeKb} KiB module)`), tiers: core.tierNames() };
}

/** The same refusals as start-up: keys that do not parse, an unknown tier, no key off loopback. */
export function checkKeys(config: GatewayConfig, tiers: readonly string[] | undefined): CheckResult {
  let records: readonly KeyRecord[];
  try {
    records = createKeyring({ envKeys: config.auth.envKeys, keys: config.auth.keys }).records();
  } catch (error) {
    return fail("api keys", errorMessage(error), "correct GATEWAY_API_KEYS or auth.keys as the message says");
  }
  const host = config.server.host;
  if (records.length === 0) {
    if (isLoopbackHost(host)) return ok("api keys", "none: serving loopback only, any key accepted");
    return fail(
      "api keys",
      `no API key, and server.host is ${host}: the gateway refuses to serve off loopback without one`,
      "create one with edge-gateway keys create and set GATEWAY_API_KEYS or auth.keys, or bind --host 127.0.0.1",
    );
  }
  const unknown = tiers === undefined ? [] : records.filter((r) => !tiers.includes(r.tier));
  if (unknown.length > 0) {
    const names = unknown.map((r) => `'${r.id}' (tier '${r.tier}')`).join(", ");
    return fail(
      "api keys",
      `${names}: tier not in core.limiter.tiers (${tiers?.join(", ")})`,
      "define the tier under core.limiter.tiers or give the key one of the tiers listed",
    );
  }
  return ok("api keys", `${records.length} key${records.length === 1 ? "" : "s"}`);
}

/** Binds and releases the serving address: a port in use is the commonest start-up failure. */
export async function checkPort(host: string, port: number): Promise<CheckResult> {
  const where = `${host}:${port}`;
  const error = await new Promise<NodeJS.ErrnoException | undefined>((settle) => {
    const server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) => settle(e));
    server.listen({ host, port, exclusive: true }, () => server.close(() => settle(undefined)));
  });
  if (error === undefined) {
    return ok("listen", port === 0 ? `${host}: a free port is picked at start (port 0)` : `${where} is free`);
  }
  switch (error.code) {
    case "EADDRINUSE":
      return warn(
        "listen",
        `${where} is in use (the gateway may already be running)`,
        "stop the process holding the port (ss -ltnp shows it), or choose another with --port / GATEWAY_PORT",
      );
    case "EACCES":
      return fail(
        "listen",
        `${where}: permission denied`,
        "use a port of 1024 or above, or grant the binary CAP_NET_BIND_SERVICE",
      );
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return fail(
        "listen",
        `${host} is not an address of this machine (${error.code})`,
        "set --host / GATEWAY_HOST to 127.0.0.1, 0.0.0.0 or an address this machine has (ip addr)",
      );
    default:
      return fail("listen", `${where}: ${error.message}`, "choose another --host or --port");
  }
}
