// fast-check generators of JSON-RPC traffic for /mcp (hostile-mcp.test.ts): requests with known and
// random methods, ids of every JSON type (and numbers no double holds), params of the right and the
// wrong shape, notifications, responses, messages without or with a wrong `jsonrpc`, and batches;
// each sent with the headers of one protocol revision (2026-07-28 with Mcp-Method and Mcp-Name,
// right, wrong or missing; 2025-11-25; none; a bogus one). Messages are written as text member by
// member, so ids such as 1e400 and duplicate or `__proto__` members reach the server as generated.

import fc from "fast-check";

export const MCP_METHODS = [
  "initialize",
  "ping",
  "server/discover",
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/read",
  "resources/templates/list",
  "resources/subscribe",
  "resources/unsubscribe",
  "subscriptions/listen",
  "prompts/list",
  "prompts/get",
  "completion/complete",
  "logging/setLevel",
  "tasks/get",
  "tasks/result",
  "tasks/list",
  "tasks/cancel",
  "sampling/createMessage",
  "elicitation/create",
  "roots/list",
  "notifications/initialized",
  "notifications/cancelled",
  "notifications/progress",
  "notifications/roots/list_changed",
] as const;

/** Tool names the test gateway lists (its one upstream keeps bare names) and some it does not. */
const TOOL_NAMES = ["echo", "add", "create_ticket", "edge_chat", "edge_queue_status", "secret", "nope", ""];

export interface McpMessage {
  /** The body as sent. */
  text: string;
  headers: Record<string, string>;
  /** The id when the body is one request with a string or integer id: the answer must echo it. */
  echoId?: string | number;
  /** What was generated, for a failure's message. */
  label: string;
}

type Revision = "2026-07-28" | "2025-11-25" | "none" | "bogus";

const envelope = (tasks: boolean) => ({
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name: "hostile", version: "0.0.0" },
  "io.modelcontextprotocol/clientCapabilities": tasks
    ? { extensions: { "io.modelcontextprotocol/tasks": {} } }
    : {},
});

/** An id as raw JSON text, with the value the answer must echo when there is one. */
const rawId: fc.Arbitrary<{ raw: string; echo?: string | number }> = fc.oneof(
  { weight: 6, arbitrary: fc.integer().map((n) => ({ raw: String(n), echo: n })) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }).map((s) => ({ raw: JSON.stringify(s), echo: s })) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        "null",
        "true",
        "{}",
        '{"id":1}',
        "[]",
        "[1]",
        "1.5",
        "-0",
        "1e400",
        "-1e400",
        "9007199254740993",
        "123456789012345678901234567890",
        "1e-400",
        '"\\ud800"',
      )
      .map((raw) => ({ raw })),
  },
  {
    weight: 1,
    arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => ({ raw: JSON.stringify(d) })),
  },
);

const method: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...MCP_METHODS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "rpc.discover",
      "__proto__",
      "constructor",
      "tools/",
      "/tools/list",
      "TOOLS/LIST",
    ),
  },
);

/** Params shaped for the method, sometimes with one member of the wrong type. */
function paramsFor(m: string, modern: boolean): fc.Arbitrary<unknown> {
  const meta = fc.boolean().map((tasks) => (modern ? { _meta: envelope(tasks) } : {}));
  const anyValue = fc.jsonValue({ maxDepth: 3 });
  const shaped = fc.record({
    name: fc.oneof(fc.constantFrom(...TOOL_NAMES), anyValue),
    arguments: fc.oneof(
      fc.constant({ text: "hi" }),
      fc.constant({ a: 1, b: 2 }),
      fc.constant({ title: "from the hostile test" }),
      fc.constant({ prompt: "hi", max_tokens: 4 }),
      fc.dictionary(fc.string({ maxLength: 8 }), anyValue, { maxKeys: 4 }),
      anyValue,
    ),
    uri: fc.oneof(fc.constantFrom("hostile://readme", "box://readme", "", "file:///etc/passwd"), anyValue),
    taskId: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }), anyValue),
    cursor: fc.oneof(fc.string({ maxLength: 20 }), anyValue),
    level: fc.constantFrom("debug", "info", "emergency", "loud"),
    protocolVersion: fc.constantFrom("2025-11-25", "2026-07-28", "1999-01-01", ""),
    capabilities: fc.oneof(fc.constant({}), anyValue),
    clientInfo: fc.oneof(fc.constant({ name: "hostile", version: "0" }), anyValue),
    task: fc.oneof(fc.constant({ ttl: 60_000 }), anyValue),
  });
  const relevant: Record<string, string[]> = {
    "tools/call": ["name", "arguments", "task"],
    "resources/read": ["uri"],
    "resources/subscribe": ["uri"],
    "resources/unsubscribe": ["uri"],
    "prompts/get": ["name", "arguments"],
    "tasks/get": ["taskId"],
    "tasks/result": ["taskId"],
    "tasks/cancel": ["taskId"],
    "tasks/list": ["cursor"],
    "tools/list": ["cursor"],
    "logging/setLevel": ["level"],
    initialize: ["protocolVersion", "capabilities", "clientInfo"],
  };
  const keys = Object.hasOwn(relevant, m) ? (relevant[m] as string[]) : [];
  return fc.oneof(
    { weight: 12, arbitrary: fc.tuple(shaped, meta).map(([s, mt]) => ({ ...pick(s, keys), ...mt })) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: anyValue },
    { weight: 1, arbitrary: fc.constantFrom([], [1, 2], "params", 42, null, { _meta: null }) },
  );
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
}

const jsonrpcMember: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constant('"2.0"') },
  { weight: 1, arbitrary: fc.constantFrom(undefined, '"1.0"', "2", "null", '"2.0 "', "[]") },
);

const members = (pairs: [string, string | undefined][]): string =>
  `{${pairs
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
    .join(",")}}`;

interface OneMessage {
  text: string;
  method?: string;
  params?: unknown;
  echo?: string | number;
  shape: string;
}

function oneMessage(modern: boolean): fc.Arbitrary<OneMessage> {
  return fc.oneof(
    // Requests (most of the traffic), notifications, responses, and members that contradict each other.
    {
      weight: 6,
      arbitrary: fc.tuple(jsonrpcMember, rawId, method).chain(([j, id, m]) =>
        paramsFor(m, modern).map((params) => ({
          text: members([
            ["jsonrpc", j],
            ["id", id.raw],
            ["method", JSON.stringify(m)],
            ["params", params === undefined ? undefined : JSON.stringify(params)],
          ]),
          method: m,
          params,
          echo: j === '"2.0"' ? id.echo : undefined,
          shape: "request",
        })),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(jsonrpcMember, method).chain(([j, m]) =>
        paramsFor(m, modern).map((params) => ({
          text: members([
            ["jsonrpc", j],
            ["method", JSON.stringify(m)],
            ["params", params === undefined ? undefined : JSON.stringify(params)],
          ]),
          method: m,
          params,
          shape: "notification",
        })),
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          rawId,
          fc.oneof(
            fc.jsonValue({ maxDepth: 2 }).map((v) => ["result", JSON.stringify(v)] as [string, string]),
            fc
              .record({ code: fc.integer(), message: fc.string({ maxLength: 20 }) })
              .map((e) => ["error", JSON.stringify(e)] as [string, string]),
            fc.constant(["error", '"not an object"'] as [string, string]),
          ),
        )
        .map(([id, [k, v]]) => ({
          text: members([
            ["jsonrpc", '"2.0"'],
            ["id", id.raw],
            [k, v],
          ]),
          shape: "response",
        })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(rawId, method).map(([id, m]) => ({
        text: members([
          ["jsonrpc", '"2.0"'],
          ["id", id.raw],
          ["method", JSON.stringify(m)],
          ["result", "{}"],
          ["error", '{"code":1,"message":"x"}'],
          ["__proto__", '{"method":"tools/call"}'],
          ["method", '"ping"'],
        ]),
        shape: "contradictory",
      })),
    },
  );
}

/** The Mcp-Name a 2026-07-28 client would send for these params, if any. */
function nameOf(params: unknown): string | undefined {
  if (params === null || typeof params !== "object") return undefined;
  const p = params as Record<string, unknown>;
  const name = p.name ?? p.uri ?? p.taskId;
  return typeof name === "string" ? name : undefined;
}

/** Header values a client can put on the wire (node:http refuses others before sending). */
const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

/** Printable text, or the base64 form 2026-07-28 uses for names that are not ASCII, broken or not. */
const headerText = fc.oneof(
  { weight: 4, arbitrary: printable },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "=?base64?ZWNobw==?=",
      "=?base64?!!!?=",
      "=?base64??=",
      "=?base64?8J+Ygg==?=",
      "=?utf-8?q?x?=",
    ),
  },
);

function headersFor(revision: Revision, one: OneMessage | undefined): fc.Arbitrary<Record<string, string>> {
  if (revision === "2025-11-25") return fc.constant({ "mcp-protocol-version": "2025-11-25" });
  if (revision === "none") return fc.constant({});
  if (revision === "bogus")
    return fc
      .constantFrom("2024-01-01", "9999-12-31", "latest", "2026-07-28, 2025-11-25", "")
      .map((v) => ({ "mcp-protocol-version": v }));
  const rightMethod = one?.method !== undefined && /^[\x20-\x7e]*$/.test(one.method) ? one.method : undefined;
  const name = nameOf(one?.params);
  const rightName = name !== undefined && /^[\x20-\x7e]*$/.test(name) ? name : undefined;
  return fc
    .record({
      method: fc.oneof(
        { weight: 6, arbitrary: fc.constant(rightMethod) },
        { weight: 1, arbitrary: fc.option(headerText, { nil: undefined }) },
      ),
      name: fc.oneof(
        { weight: 6, arbitrary: fc.constant(rightName) },
        { weight: 1, arbitrary: fc.option(headerText, { nil: undefined }) },
      ),
    })
    .map(({ method, name }) => ({
      "mcp-protocol-version": "2026-07-28",
      ...(method === undefined ? {} : { "mcp-method": method }),
      ...(name === undefined ? {} : { "mcp-name": name }),
    }));
}

const REVISIONS: fc.Arbitrary<Revision> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Revision>("2026-07-28") },
  { weight: 3, arbitrary: fc.constant<Revision>("2025-11-25") },
  { weight: 1, arbitrary: fc.constantFrom<Revision>("none", "bogus") },
);

/** One message or a batch, with one revision's headers. */
export const mcpTraffic: fc.Arbitrary<McpMessage> = REVISIONS.chain((revision) =>
  fc.oneof(
    {
      weight: 9,
      arbitrary: oneMessage(revision === "2026-07-28").chain((one) =>
        headersFor(revision, one).map((headers) => ({
          text: one.text,
          headers,
          ...(one.echo === undefined ? {} : { echoId: one.echo }),
          label: `${revision} ${one.shape}`,
        })),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.array(oneMessage(revision === "2026-07-28"), { maxLength: 4 }).chain((batch) =>
        headersFor(revision, batch[0]).map((headers) => ({
          text: `[${batch.map((m) => m.text).join(",")}]`,
          headers,
          label: `${revision} batch of ${batch.length}`,
        })),
      ),
    },
  ),
);
