// /mcp end to end with the official SDK v2 client, for both protocol revisions: a stdio upstream the
// gateway spawns and an HTTP upstream at once, prefixed names, include/exclude, resources and
// prompts, the gateway's own tools, sampling answered by the router, keys, Origin/Host checks,
// rate limits and JSON-RPC errors.

import { createHash } from "node:crypto";
import { request } from "node:http";
import { ProtocolError } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FREE_KEY, type Harness, KEY, startHarness } from "../e2e/harness.js";
import {
  connectClient,
  envelope,
  eventually,
  MODERN_HEADERS,
  type Revision,
  rpc,
  startToolbox,
  type Toolbox,
  toolboxCommand,
} from "./support.js";

const CHAT_ONLY_KEY = "test-key-chat-only";
const REVISIONS: Revision[] = ["2025-11-25", "2026-07-28"];

let h: Harness;
let cloudBox: Toolbox;

beforeAll(async () => {
  cloudBox = await startToolbox("cloudbox");
  h = await startHarness(() => ({
    auth: {
      keys: [
        {
          id: "chat-only",
          sha256: createHash("sha256").update(CHAT_ONLY_KEY).digest("hex"),
          scopes: ["chat"],
        },
      ],
    },
    mcp: {
      sampling: true,
      upstreams: [
        { name: "cloud", url: cloudBox.url, queueable: ["create_ticket"], exclude: ["secret"] },
        {
          name: "sensors",
          ...toolboxCommand("sensors"),
          include: ["echo", "add", "ask_model", "readme", "greet"],
        },
      ],
    },
  }));
  // Both upstreams connected (the stdio one is spawned through tsx).
  await eventually(async () => {
    const ready = (await (await fetch(`${h.gateway.url}/ready`)).json()) as {
      mcp: { upstreams: { status: string }[] };
    };
    return ready.mcp.upstreams.every((u) => u.status === "up") ? true : undefined;
  }, 30_000);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await cloudBox?.stop();
});

describe.each(REVISIONS)("MCP %s with the SDK client", (revision) => {
  it("aggregates the HTTP and the stdio upstream under prefixed names, with include/exclude applied", async () => {
    const client = await connectClient(h.gateway.url, revision, { key: KEY });
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(
      [
        "cloud__add",
        "cloud__ask_model",
        "cloud__create_ticket",
        "cloud__echo",
        "edge_chat",
        "edge_queue_status",
        "sensors__add",
        "sensors__ask_model",
        "sensors__echo",
      ].sort(),
    );
    await client.close();
  });

  it("routes each call to its upstream and returns its result", async () => {
    const client = await connectClient(h.gateway.url, revision, { key: KEY });
    const fromCloud = await client.callTool({ name: "cloud__echo", arguments: { text: "hi" } });
    expect(fromCloud.content).toEqual([{ type: "text", text: "cloudbox: hi" }]);
    const fromStdio = await client.callTool({ name: "sensors__add", arguments: { a: 2, b: 40 } });
    expect(fromStdio.structuredContent).toEqual({ sum: 42 });
    await client.close();
  });

  it("refuses a hidden or unknown tool with invalid params (-32602)", async () => {
    const client = await connectClient(h.gateway.url, revision, { key: KEY });
    for (const name of ["cloud__secret", "sensors__secret", "nope"]) {
      const error = await client.callTool({ name, arguments: {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe(-32602);
    }
    await client.close();
  });

  it("serves resources and prompts from both upstreams", async () => {
    const client = await connectClient(h.gateway.url, revision, { key: KEY });
    const uris = (await client.listResources()).resources.map((r) => r.uri).sort();
    expect(uris).toEqual(["cloudbox://readme", "sensors://readme"]);
    const read = await client.readResource({ uri: "sensors://readme" });
    expect(read.contents[0]).toMatchObject({ text: "sensors readme" });
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name).sort();
    expect(prompts).toEqual(["cloud__greet", "sensors__greet"]);
    const prompt = await client.getPrompt({ name: "cloud__greet", arguments: { who: "Ada" } });
    expect(prompt.messages[0]?.content).toEqual({ type: "text", text: "Hello Ada from cloudbox" });
    await client.close();
  });

  it("offers its own tools: edge_chat through the router and edge_queue_status", async () => {
    const client = await connectClient(h.gateway.url, revision, { key: KEY });
    const answer = await client.callTool({ name: "edge_chat", arguments: { prompt: "hello" } });
    expect(answer.isError).toBeFalsy();
    // The harness's local model server answers first: local before cloud.
    expect(answer.structuredContent).toMatchObject({ text: "local answer", target: "local/tiny" });
    const status = await client.callTool({ name: "edge_queue_status", arguments: {} });
    const body = status.structuredContent as { upstreams: { name: string; status: string }[] };
    expect(body.upstreams).toEqual([
      { name: "cloud", status: "up" },
      { name: "sensors", status: "up" },
    ]);
    await client.close();
  });
});

describe("sampling from an upstream", () => {
  it("is answered by a local model when mcp.sampling is on", async () => {
    const client = await connectClient(h.gateway.url, "2025-11-25", { key: KEY });
    const result = await client.callTool({ name: "sensors__ask_model", arguments: { question: "status?" } });
    expect(result.content).toEqual([{ type: "text", text: "model said: local answer" }]);
    await client.close();
  });
});

describe("a stdio upstream's process", () => {
  it("is restarted when it dies, and its tools serve again", async () => {
    type Ready = { mcp: { upstreams: { name: string; status: string; pid?: number; reconnects: number }[] } };
    const sensors = async () =>
      ((await (await fetch(`${h.gateway.url}/ready`)).json()) as Ready).mcp.upstreams.find(
        (u) => u.name === "sensors",
      );
    const before = await sensors();
    expect(before?.pid).toBeGreaterThan(0);
    process.kill(before?.pid as number, "SIGKILL");
    const after = await eventually(async () => {
      const now = await sensors();
      return now?.status === "up" && now.pid !== before?.pid ? now : undefined;
    }, 30_000);
    expect(after.reconnects).toBe((before?.reconnects ?? 0) + 1);
    const client = await connectClient(h.gateway.url, "2026-07-28", { key: KEY });
    const result = await client.callTool({ name: "sensors__echo", arguments: { text: "back" } });
    expect(result.content).toEqual([{ type: "text", text: "sensors: back" }]);
    await client.close();
  }, 40_000);
});

describe("access to /mcp", () => {
  const list = { jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: envelope(false) } };

  it("needs a key (401) with the mcp scope (403)", async () => {
    const none = await rpc(h.gateway.url, list, MODERN_HEADERS);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const chatOnly = await rpc(h.gateway.url, list, {
      ...MODERN_HEADERS,
      authorization: `Bearer ${CHAT_ONLY_KEY}`,
    });
    expect(chatOnly.status).toBe(403);
    for (const revision of REVISIONS) {
      await expect(connectClient(h.gateway.url, revision, { key: CHAT_ONLY_KEY })).rejects.toThrow();
    }
  });

  it("rejects a foreign Origin or Host with 403 and admits loopback ones", async () => {
    const auth = { ...MODERN_HEADERS, authorization: `Bearer ${KEY}` };
    const evil = await rpc(h.gateway.url, list, { ...auth, origin: "https://evil.example" });
    expect(evil.status).toBe(403);
    // fetch will not send a foreign Host header; node:http will, as a DNS-rebinding page's would arrive.
    expect(await statusWithHost(h.gateway.url, "evil.example:8080", list, auth)).toBe(403);
    expect(await statusWithHost(h.gateway.url, "localhost:8080", list, auth)).toBe(200);
    const local = await rpc(h.gateway.url, list, { ...auth, origin: "http://localhost:3000" });
    expect(local.status).toBe(200);
    for (const revision of REVISIONS) {
      await expect(
        connectClient(h.gateway.url, revision, { key: KEY, headers: { origin: "https://evil.example" } }),
      ).rejects.toThrow();
    }
  });

  it("applies the key's rate limit with 429 and Retry-After", async () => {
    // The free tier allows a burst of 2 requests.
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const r = await rpc(h.gateway.url, list, { ...MODERN_HEADERS, authorization: `Bearer ${FREE_KEY}` });
      statuses.push(r.status);
      retryAfter ??= r.headers.get("retry-after");
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it("answers JSON-RPC errors with the codes the spec defines", async () => {
    const auth = { ...MODERN_HEADERS, authorization: `Bearer ${KEY}` };
    const batch = await rpc(h.gateway.url, [list, { ...list, id: 2 }], auth);
    expect(batch.status).toBe(400);
    expect(batch.json).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32600 } });
    const garbage = await rpc(h.gateway.url, "{not json", auth);
    expect(garbage.status).toBe(400);
    expect(garbage.json).toMatchObject({ error: { code: -32700 } });
    const unknown = await rpc(h.gateway.url, { ...list, method: "no/such/method" }, auth);
    expect(unknown.json).toMatchObject({ id: 1, error: { code: -32601 } });
    const badParams = await rpc(
      h.gateway.url,
      {
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "nope", arguments: {}, _meta: envelope(false) },
      },
      auth,
    );
    expect(badParams.json).toMatchObject({ id: 3, error: { code: -32602 } });
  });
});

describe("observability", () => {
  it("exports per-upstream and per-tool metrics and shows upstream health on /ready", async () => {
    const text = await (await fetch(`${h.gateway.url}/metrics`)).text();
    expect(text).toMatch(/gateway_mcp_upstream_up\{upstream="cloud",transport="http"\} 1/);
    expect(text).toMatch(/gateway_mcp_upstream_up\{upstream="sensors",transport="stdio"\} 1/);
    expect(text).toMatch(/gateway_mcp_tool_calls_total\{upstream="cloud",tool="echo",outcome="ok"\} [1-9]/);
    expect(text).toMatch(
      /gateway_mcp_tool_call_duration_seconds_count\{upstream="sensors",tool="add"\} [1-9]/,
    );
    const ready = (await (await fetch(`${h.gateway.url}/ready`)).json()) as Record<string, unknown>;
    expect(ready.mcp).toMatchObject({
      upstreams: [
        { name: "cloud", transport: "http", status: "up" },
        { name: "sensors", transport: "stdio", status: "up" },
      ],
    });
  });
});

function statusWithHost(
  base: string,
  host: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<number> {
  const payload = JSON.stringify(body);
  const method = (body as { method: string }).method;
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}/mcp`,
      {
        method: "POST",
        headers: {
          ...headers,
          host,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-method": method,
          "content-length": Buffer.byteLength(payload),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}
