// The offline flow with real processes: the gateway (the CLI, as operators run it) in front of one
// HTTP upstream (bare names). The upstream goes away; a queueable call from a tasks-capable client
// becomes a durable task; the gateway is killed with SIGKILL and started again; the upstream comes
// back on its port; tasks/get ends with the upstream's result, and the upstream ran the call once.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliProcess, spawnCli } from "../e2e/cli-process.js";
import { freePort } from "../support/free-port.js";
import { envelope, eventually, MODERN_HEADERS, rpc, startToolbox, type Toolbox } from "./support.js";

const KEY = "offline-test-key";
const OTHER_KEY = "offline-other-key";
const AUTH = { authorization: `Bearer ${KEY}` };
const MODERN = { ...MODERN_HEADERS, ...AUTH };
const LEGACY = { "mcp-protocol-version": "2025-11-25", ...AUTH };

let dir: string;
let ledger: string;
let upstreamPort: number;
let gatewayPort: number;
let configPath: string;
let gateway: CliProcess | undefined;
let upstream: Toolbox | undefined;
let base: string;

function startGateway(): CliProcess {
  return spawnCli(["serve", "--config", configPath], {
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_DATA_DIR: join(dir, "data"),
    GATEWAY_API_KEYS: `${KEY}:default,${OTHER_KEY}:default`,
  });
}

async function upstreamStatus(): Promise<string | undefined> {
  try {
    const ready = (await (await fetch(`${base}/ready`)).json()) as {
      mcp: { upstreams: { status: string }[] };
    };
    return ready.mcp.upstreams[0]?.status;
  } catch {
    return undefined;
  }
}

const call = (name: string, id: number, tasks: boolean, text = "printer on fire") => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: { title: text }, _meta: envelope(tasks) },
});

const taskGet = (taskId: string, id: number, headers: Record<string, string> = MODERN) =>
  rpc(
    base,
    {
      jsonrpc: "2.0",
      id,
      method: "tasks/get",
      params: {
        taskId,
        ...(headers["mcp-protocol-version"] === "2026-07-28" ? { _meta: envelope(true) } : {}),
      },
    },
    headers,
  );

const ledgerLines = () =>
  readFileSync(ledger, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { title: string; key: string | null });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gw-mcp-offline-"));
  ledger = join(dir, "ledger.jsonl");
  writeFileSync(ledger, "");
  upstreamPort = await freePort();
  gatewayPort = await freePort();
  base = `http://127.0.0.1:${gatewayPort}`;
  configPath = join(dir, "gateway.yaml");
  writeFileSync(
    configPath,
    [
      "log: { level: warn }",
      "models: { enabled: false }",
      "queue: { pollMs: 200 }",
      "core: { limiter: { tiers: { default: { requestsPerMinute: 60000, tokensPerMinute: 10000000 } } } }",
      "mcp:",
      "  reconnectMinMs: 100",
      "  reconnectMaxMs: 500",
      "  taskPollMs: 250",
      "  upstreams:",
      `    - { name: tickets, url: "http://127.0.0.1:${upstreamPort}/mcp", queueable: [create_ticket] }`,
      "",
    ].join("\n"),
  );
  upstream = await startToolbox("tickets", { port: upstreamPort, ledger });
  gateway = startGateway();
  await eventually(async () => ((await upstreamStatus()) === "up" ? true : undefined), 30_000);
}, 60_000);

afterAll(async () => {
  gateway?.child.kill("SIGKILL");
  await upstream?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("an unreachable HTTP upstream", () => {
  let modernTask: string;
  let legacyTask: string;

  it("serves its tools under bare names while it is up", async () => {
    const list = await rpc(
      base,
      { jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: envelope(false) } },
      MODERN,
    );
    const names = (list.json?.result as { tools: { name: string }[] } | undefined)?.tools.map((t) => t.name);
    expect(names).toContain("create_ticket");
    expect(names).toContain("echo");
  });

  it("turns a queueable call from a tasks-capable client into a task, committed before the answer", async () => {
    await upstream?.stop();
    const answer = await rpc(base, call("create_ticket", 2, true), MODERN);
    const result = answer.json?.result as Record<string, unknown>;
    expect(result).toMatchObject({ resultType: "task", status: "working", ttlMs: expect.any(Number) });
    modernTask = String(result.taskId);
    const polled = await taskGet(modernTask, 3);
    expect(polled.json?.result).toMatchObject({
      resultType: "complete",
      taskId: modernTask,
      status: "working",
    });
  });

  it("gives a 2025-11-25 task-augmented call a task in that revision's form", async () => {
    const answer = await rpc(
      base,
      {
        jsonrpc: "2.0",
        id: 4,
        method: "tools/call",
        params: { name: "create_ticket", arguments: { title: "legacy ticket" }, task: { ttl: 60_000 } },
      },
      LEGACY,
    );
    const task = (answer.json?.result as { task: Record<string, unknown> } | undefined)?.task;
    if (!task) throw new Error(`no task: ${answer.status} ${answer.text}`);
    expect(task).toMatchObject({ status: "working", ttl: expect.any(Number), pollInterval: 250 });
    legacyTask = String(task.taskId);
  });

  it("answers a client without tasks with a tool error saying the call was not executed", async () => {
    const answer = await rpc(base, call("create_ticket", 5, false), MODERN);
    const result = answer.json?.result as { isError: boolean; content: { text: string }[] };
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(/offline.*not executed/);
    // A tool the operator did not mark queueable is never queued, even for a tasks-capable client.
    const echo = await rpc(
      base,
      {
        jsonrpc: "2.0",
        id: 6,
        method: "tools/call",
        params: { name: "echo", arguments: { text: "x" }, _meta: envelope(true) },
      },
      MODERN,
    );
    expect(echo.json?.result).toMatchObject({ isError: true });
  });

  it("keeps the tasks and the tool list across a SIGKILL of the gateway", async () => {
    gateway?.child.kill("SIGKILL");
    await gateway?.exited(10_000);
    gateway = startGateway();
    await eventually(async () => ((await upstreamStatus()) === "down" ? true : undefined), 30_000);
    // The catalog comes from the SQLite cache: the upstream has not been reachable since the start.
    const list = await rpc(
      base,
      { jsonrpc: "2.0", id: 7, method: "tools/list", params: { _meta: envelope(false) } },
      MODERN,
    );
    const names = (list.json?.result as { tools: { name: string }[] } | undefined)?.tools.map((t) => t.name);
    expect(names).toContain("create_ticket");
    const polled = await taskGet(modernTask, 8);
    expect(polled.json?.result).toMatchObject({ status: "working" });
    expect(ledgerLines()).toEqual([]);
  }, 40_000);

  it("delivers each task once when the upstream returns, and tasks/get shows its result", async () => {
    upstream = await startToolbox("tickets", { port: upstreamPort, ledger });
    const done = await eventually(async () => {
      const polled = await taskGet(modernTask, 9);
      const result = polled.json?.result as Record<string, unknown> | undefined;
      return result?.status === "completed" ? result : undefined;
    }, 30_000);
    // Stored as the upstream sent it (its `_meta` included).
    expect(done.result).toMatchObject({
      content: [{ type: "text", text: "ticket opened: printer on fire" }],
      structuredContent: { id: "T-15", title: "printer on fire" },
    });
    const legacy = await eventually(async () => {
      const polled = await taskGet(legacyTask, 10, LEGACY);
      const result = polled.json?.result as Record<string, unknown> | undefined;
      return result?.status === "completed" ? result : undefined;
    }, 30_000);
    expect(legacy).toMatchObject({ taskId: legacyTask, ttl: expect.any(Number) });
    const payload = await rpc(
      base,
      { jsonrpc: "2.0", id: 11, method: "tasks/result", params: { taskId: legacyTask } },
      LEGACY,
    );
    expect(payload.json?.result).toMatchObject({
      content: [{ type: "text", text: "ticket opened: legacy ticket" }],
    });
    // Give a duplicate delivery time to show up, then count: one execution per task.
    await new Promise((r) => setTimeout(r, 1_000));
    const lines = ledgerLines();
    expect(lines.map((l) => l.title).sort()).toEqual(["legacy ticket", "printer on fire"]);
    expect(lines.map((l) => l.key).sort()).toEqual([legacyTask, modernTask].sort());
  }, 60_000);

  it("hides a task from other keys and refuses unknown ids with -32602", async () => {
    const unknown = await taskGet("no-such-task", 12);
    expect(unknown.json).toMatchObject({ error: { code: -32602 } });
    const foreign = await taskGet(modernTask, 13, {
      ...MODERN_HEADERS,
      authorization: `Bearer ${OTHER_KEY}`,
    });
    expect(foreign.json).toMatchObject({ error: { code: -32602 } });
  });
});
