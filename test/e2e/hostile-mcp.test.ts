// Hostile traffic at POST /mcp of a real gateway on 127.0.0.1 (one HTTP upstream, the toolbox
// fixture, with a queueable tool), generated with fast-check: broken bodies (hostile-arbitraries.ts)
// and JSON-RPC messages of every shape under both protocol revisions' headers
// (hostile-mcp-messages.ts). Property: never a 5xx, never a hang, always a well-formed answer (a
// JSON-RPC response with a result or an error object, as JSON or as SSE; or 202 with no body for a
// notification or a response), and afterwards the gateway still serves /health, MCP through the
// SDK client for both revisions, and /v1.

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_BODY_LIMIT_BYTES } from "../../host/config/index.js";
import { connectClient, eventually, startToolbox, type Toolbox } from "../mcp/support.js";
import { chat, type Harness, KEY, startHarness } from "./harness.js";
import { expectNoPrototypePollution, hostileBodies, JSON_TYPE } from "./hostile-arbitraries.js";
import { type McpMessage, mcpTraffic } from "./hostile-mcp-messages.js";
import { type RawResponse, rawRequest } from "./raw-http.js";

const RPC_RUNS = 400;
const BODY_RUNS = 200;
const OTHER_RUNS = 60;
const ACCEPT = "application/json, text/event-stream";
const MODERN_CALL = {
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: {
    name: "echo",
    arguments: { text: "hello" },
    _meta: {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientInfo": { name: "hostile", version: "0.0.0" },
      "io.modelcontextprotocol/clientCapabilities": {},
    },
  },
};
const LEGACY_CALL = {
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "echo", arguments: { text: "hi" } },
};

let box: Toolbox;
let h: Harness;
const answers: { label: string; status: number }[] = [];

beforeAll(async () => {
  box = await startToolbox("hostile");
  h = await startHarness(() => ({
    core: { limiter: { tiers: { default: { requestsPerMinute: 0, tokensPerMinute: 0 } } } },
    mcp: { upstreams: [{ name: "box", url: box.url, queueable: ["create_ticket"], exclude: ["secret"] }] },
  }));
  await eventually(async () => {
    const ready = (await (await fetch(`${h.gateway.url}/ready`)).json()) as {
      mcp: { upstreams: { status: string }[] };
    };
    return ready.mcp.upstreams[0]?.status === "up" ? true : undefined;
  }, 30_000);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await box?.stop();
});

async function post(label: string, body: Buffer | string, headers: Record<string, string | undefined>) {
  const sent = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const res = await rawRequest(h.gateway.url, {
    path: "/mcp",
    headers: { accept: ACCEPT, authorization: `Bearer ${KEY}`, ...sent },
    body,
  });
  answers.push({ label, status: res.status });
  return res;
}

const isId = (id: unknown) => id === null || typeof id === "string" || typeof id === "number";

/** A JSON-RPC 2.0 response: `jsonrpc`, an id, and exactly one of a result object or an error object. */
function expectRpcResponse(message: unknown, context: string): Record<string, unknown> {
  expect(message, context).toBeTypeOf("object");
  const m = message as Record<string, unknown>;
  expect(m.jsonrpc, context).toBe("2.0");
  expect(isId(m.id), `${context}: id ${JSON.stringify(m.id)}`).toBe(true);
  expect("result" in m !== "error" in m, `${context}: one of result and error`).toBe(true);
  if ("result" in m) expect(m.result, context).toBeTypeOf("object");
  else {
    const error = m.error as Record<string, unknown>;
    expect(Number.isInteger(error?.code), `${context}: error.code`).toBe(true);
    expect(error?.message, `${context}: error.message`).toBeTypeOf("string");
  }
  return m;
}

/** The SSE events' `data:` payloads, each a JSON-RPC message; the last is the answer. */
function sseMessages(text: string): unknown[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.startsWith("data:"))
    .map((line) => JSON.parse(line.slice(5)));
}

function expectWellFormed(res: RawResponse, label: string, echoId?: string | number): void {
  const context = `${label} -> ${res.status} ${res.text.slice(0, 400)}`;
  expect(res.status, context).toBeLessThan(500);
  if (res.status === 202) {
    expect(res.text, context).toBe("");
    return;
  }
  const type = String(res.headers["content-type"] ?? "");
  let answer: Record<string, unknown>;
  if (type.startsWith("text/event-stream")) {
    expect(res.status, context).toBe(200);
    const messages = sseMessages(res.text);
    expect(messages.length, context).toBeGreaterThan(0);
    answer = expectRpcResponse(messages.at(-1), context);
  } else {
    expect(type, context).toMatch(/^application\/json/);
    answer = expectRpcResponse(res.json, context);
    if (res.status >= 400) expect(answer.error, context).toBeDefined();
  }
  if (res.status === 200 && echoId !== undefined) expect(answer.id, context).toBe(echoId);
}

describe("hostile traffic at POST /mcp", () => {
  it(`answers ${RPC_RUNS} generated JSON-RPC messages and batches, under either revision, well-formed and never 5xx`, async () => {
    await fc.assert(
      fc.asyncProperty(mcpTraffic, async (msg: McpMessage) => {
        const res = await post(msg.label, msg.text, { "content-type": JSON_TYPE, ...msg.headers });
        expectWellFormed(res, `${msg.label}: ${msg.text.slice(0, 300)}`, msg.echoId);
      }),
      { numRuns: RPC_RUNS },
    );
  }, 120_000);

  for (const [revision, template, headers] of [
    [
      "2026-07-28",
      MODERN_CALL,
      { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "echo" },
    ],
    ["2025-11-25", LEGACY_CALL, { "mcp-protocol-version": "2025-11-25" }],
  ] as const) {
    it(`answers ${BODY_RUNS / 2} hostile bodies (${revision} headers) well-formed and never 5xx`, async () => {
      const bodies = hostileBodies({ template, limitBytes: DEFAULT_BODY_LIMIT_BYTES });
      await fc.assert(
        fc.asyncProperty(bodies, async ({ kind, contentType, body }) => {
          const res = await post(`body ${kind}`, body, { ...headers, "content-type": contentType });
          expectWellFormed(res, `${revision} ${kind} (${contentType}): ${body.subarray(0, 200).toString()}`);
        }),
        { numRuns: BODY_RUNS / 2 },
      );
    }, 120_000);
  }

  it(`answers ${OTHER_RUNS} requests with other methods, Accept headers and no body well-formed and never 5xx`, async () => {
    const variants = fc.record({
      method: fc.constantFrom("GET", "DELETE", "PUT", "PATCH", "OPTIONS", "POST"),
      accept: fc.constantFrom<string | undefined>(
        undefined,
        "",
        "application/json",
        "text/event-stream",
        "*/*",
        ACCEPT,
      ),
      revision: fc.constantFrom<string | undefined>(undefined, "2025-11-25", "2026-07-28"),
      body: fc.constantFrom<string | undefined>(undefined, "", JSON.stringify(LEGACY_CALL)),
    });
    await fc.assert(
      fc.asyncProperty(variants, async (v) => {
        const headers: Record<string, string> = { authorization: `Bearer ${KEY}` };
        if (v.accept !== undefined) headers.accept = v.accept;
        if (v.revision !== undefined) headers["mcp-protocol-version"] = v.revision;
        if (v.body !== undefined) headers["content-type"] = JSON_TYPE;
        const res = await rawRequest(h.gateway.url, {
          method: v.method,
          path: "/mcp",
          headers,
          body: v.body,
        });
        answers.push({ label: `${v.method} /mcp`, status: res.status });
        const label = `${v.method} accept=${v.accept} revision=${v.revision} body=${v.body}`;
        // A preflight or a 405 may have no body; anything with a body must be well-formed.
        if (res.text === "" && res.status !== 200) expect(res.status, label).toBeLessThan(500);
        else expectWellFormed(res, label);
      }),
      { numRuns: OTHER_RUNS },
    );
  });

  it("still serves afterwards: /health, MCP for both revisions, /v1, and no prototype was polluted", async () => {
    expectNoPrototypePollution();
    const health = await fetch(`${h.gateway.url}/health`);
    expect(health.status).toBe(200);
    for (const revision of ["2025-11-25", "2026-07-28"] as const) {
      const client = await connectClient(h.gateway.url, revision, { key: KEY });
      const result = await client.callTool({ name: "echo", arguments: { text: "still here" } });
      expect(result.content).toEqual([{ type: "text", text: "hostile: still here" }]);
      await client.close();
    }
    const ok = await h.post("/v1/chat/completions", chat("hello after the MCP storm"));
    expect(ok.status).toBe(200);
    expect(answers.length).toBeGreaterThanOrEqual(RPC_RUNS + BODY_RUNS + OTHER_RUNS);
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    const byStatus: Record<string, number> = {};
    for (const a of answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    console.info(JSON.stringify({ hostile: "mcp", requests: answers.length, byStatus }));
  });
});
