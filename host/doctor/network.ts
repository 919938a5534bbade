import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { GatewayConfig } from "../config/index.js";
import {
  type HttpUpstreamConfig,
  isHttpUpstream,
  type StdioUpstreamConfig,
  type UpstreamConfig,
} from "../mcp/config.js";
import { type CheckResult, errorMessage, ok, warn } from "./types.js";

// Every check here warns rather than fails: the gateway serves local models while the cloud or an
// MCP upstream is away, and reconnects on its own when they return.

/** Why fetch failed, from the cause undici wraps (`ECONNREFUSED 127.0.0.1:9`), not "fetch failed". */
function reachError(error: unknown, timeoutMs: number): string {
  if ((error as Error).name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? errorMessage(error);
}

export async function checkCloud(config: GatewayConfig, timeoutMs: number): Promise<CheckResult> {
  const { url, apiKey } = config.cloud;
  if (url === undefined) return ok("cloud", "not configured (cloud.url unset): local targets only");
  const started = performance.now();
  try {
    const response = await fetch(`${url}/models`, {
      headers: apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    const ms = Math.round(performance.now() - started);
    if (response.ok)
      return ok("cloud", `${url} reachable (GET /models: HTTP ${response.status} in ${ms} ms)`);
    if (response.status === 401 || response.status === 403) {
      return warn(
        "cloud",
        `${url} refused the key (HTTP ${response.status})`,
        "set cloud.apiKey (GATEWAY_CLOUD_API_KEY) to a key the cloud accepts",
      );
    }
    return warn(
      "cloud",
      `${url}/models answered HTTP ${response.status}`,
      "check cloud.url (GATEWAY_CLOUD_URL): the OpenAI-compatible base URL ending in /v1",
    );
  } catch (error) {
    return warn(
      "cloud",
      `${url} unreachable: ${reachError(error, timeoutMs)}`,
      "check the network, DNS and cloud.url (GATEWAY_CLOUD_URL); meanwhile the gateway serves local models and queues requests that opted in",
    );
  }
}

/** `path`: the PATH a stdio upstream inherits (the gateway's own), unless its `env` sets one. */
export async function checkMcpUpstreams(
  config: GatewayConfig,
  { timeoutMs, path }: { timeoutMs: number; path: string | undefined },
): Promise<CheckResult[]> {
  if (!config.mcp.enabled) return [];
  return Promise.all(
    config.mcp.upstreams.map((u, index) =>
      isHttpUpstream(u)
        ? checkHttpUpstream(u, index, timeoutMs)
        : checkStdioUpstream(u, index, u.env?.PATH ?? path),
    ),
  );
}

const name = (u: UpstreamConfig) => `mcp ${u.name}`;

/** An MCP initialize, the first thing the gateway sends; the session it opens is closed again. */
async function checkHttpUpstream(
  u: HttpUpstreamConfig,
  index: number,
  timeoutMs: number,
): Promise<CheckResult> {
  const headers = {
    ...u.headers,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  const initialize = {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "edge-gateway-doctor", version: "1" },
    },
  };
  try {
    const response = await fetch(u.url, {
      method: "POST",
      headers,
      body: JSON.stringify(initialize),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    const session = response.headers.get("mcp-session-id");
    if (session !== null) {
      await fetch(u.url, {
        method: "DELETE",
        headers: { ...u.headers, "mcp-session-id": session },
        signal: AbortSignal.timeout(timeoutMs),
      }).then(
        (r) => r.body?.cancel(),
        () => undefined,
      );
    }
    if (response.ok) return ok(name(u), `${u.url} answered initialize (HTTP ${response.status})`);
    if (response.status === 401 || response.status === 403) {
      return warn(
        name(u),
        `${u.url} refused the credentials (HTTP ${response.status})`,
        `set the upstream's credentials under mcp.upstreams[${index}].headers`,
      );
    }
    return warn(
      name(u),
      `${u.url} answered initialize with HTTP ${response.status}`,
      `check mcp.upstreams[${index}].url: it must be the server's Streamable HTTP endpoint`,
    );
  } catch (error) {
    return warn(
      name(u),
      `${u.url} unreachable: ${reachError(error, timeoutMs)}`,
      `start the server or correct mcp.upstreams[${index}].url; its tools are offline until it answers (queueable ones wait in the queue)`,
    );
  }
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the program the way spawn will: a path with a slash is taken relative to the upstream's
 * cwd, a bare name is looked up on the PATH the child gets (the upstream's own env wins).
 */
export async function findProgram(
  command: string,
  cwd: string,
  path: string | undefined,
): Promise<string | undefined> {
  if (command.includes("/")) {
    const file = isAbsolute(command) ? command : resolve(cwd, command);
    return (await isExecutableFile(file)) ? file : undefined;
  }
  for (const dir of (path ?? "").split(delimiter)) {
    if (dir === "") continue;
    const file = join(resolve(cwd, dir), command);
    if (await isExecutableFile(file)) return file;
  }
  return undefined;
}

async function checkStdioUpstream(
  u: StdioUpstreamConfig,
  index: number,
  path: string | undefined,
): Promise<CheckResult> {
  const cwd = resolve(u.cwd ?? ".");
  if (
    u.cwd !== undefined &&
    !(await stat(cwd).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    return warn(
      name(u),
      `working directory ${cwd} does not exist`,
      `create it or correct mcp.upstreams[${index}].cwd`,
    );
  }
  const program = await findProgram(u.command, cwd, path);
  if (program !== undefined) return ok(name(u), `${program} is executable`);
  return warn(
    name(u),
    `${u.command} is not an executable file${u.command.includes("/") ? "" : " on the PATH"}`,
    `install ${u.command}, or give its absolute path in mcp.upstreams[${index}].command`,
  );
}
