// Helpers for the MCP tests: the toolbox fixture as a real child process, and the official SDK v2
// client connected to a gateway's /mcp with one of the two protocol revisions.

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { REPO_ROOT } from "../e2e/cli-process.js";

export const TOOLBOX = "test/fixtures/mcp/toolbox.ts";
/** The fixture as a stdio upstream config: node runs it through tsx. */
export const toolboxCommand = (name: string) => ({
  command: process.execPath,
  args: ["--import", "tsx", `${REPO_ROOT}${TOOLBOX}`, "--stdio", "--name", name],
  cwd: REPO_ROOT,
});

export interface Toolbox {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the toolbox over HTTP on 127.0.0.1 (a fixed port when given, to come back on it). */
export async function startToolbox(
  name: string,
  opts: { port?: number; ledger?: string } = {},
): Promise<Toolbox> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", TOOLBOX, "--name", name, "--port", String(opts.port ?? 0)],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...(opts.ledger ? { TOOLBOX_LEDGER: opts.ledger } : {}) },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("toolbox did not start in 20 s")), 20_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const m = /^listening (\S+)/.exec(line);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`toolbox exited with ${code}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

export type Revision = "2025-11-25" | "2026-07-28";

/** The official client on /mcp: 2025-11-25 (initialize handshake) or pinned to 2026-07-28. */
export async function connectClient(
  gatewayUrl: string,
  revision: Revision,
  opts: { key?: string; tasks?: boolean; headers?: Record<string, string> } = {},
): Promise<Client> {
  const client = new Client({ name: "gateway-test", version: "1.0.0" }, {
    versionNegotiation: { mode: revision === "2025-11-25" ? "legacy" : { pin: "2026-07-28" } },
    capabilities: opts.tasks ? { extensions: { "io.modelcontextprotocol/tasks": {} } } : {},
  } as never);
  const headers = { ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}), ...opts.headers };
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gatewayUrl}/mcp`), { requestInit: { headers } }),
  );
  return client;
}

/** One raw JSON-RPC POST to /mcp (for what the SDK client will not send or decode). */
export async function rpc(
  gatewayUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> | undefined; text: string; headers: Headers }> {
  const res = await fetch(`${gatewayUrl}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...routingHeaders(body, headers),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    const data = /^data: (.*)$/m.exec(text)?.[1];
    json = data ? (JSON.parse(data) as Record<string, unknown>) : undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/**
 * 2026-07-28 requests name their method (and the tool, prompt, resource or task) in headers as
 * well as in the body, for intermediaries; the server refuses a mismatch.
 */
function routingHeaders(body: unknown, headers: Record<string, string>): Record<string, string> {
  if (headers["mcp-protocol-version"] !== "2026-07-28" || body === null || typeof body !== "object")
    return {};
  const { method, params } = body as { method?: string; params?: Record<string, unknown> };
  if (typeof method !== "string") return {};
  const name = params?.name ?? params?.uri ?? params?.taskId;
  return { "mcp-method": method, ...(typeof name === "string" ? { "mcp-name": name } : {}) };
}

/** The 2026-07-28 per-request envelope, optionally declaring the tasks extension. */
export function envelope(tasks: boolean): Record<string, unknown> {
  return {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": { name: "raw-test", version: "1.0.0" },
    "io.modelcontextprotocol/clientCapabilities": tasks
      ? { extensions: { "io.modelcontextprotocol/tasks": {} } }
      : {},
  };
}

export const MODERN_HEADERS = { "mcp-protocol-version": "2026-07-28" };

/** Polls until `check` returns a value or the time runs out. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  stepMs = 100,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
