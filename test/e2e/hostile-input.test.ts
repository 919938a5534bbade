// Malformed and hostile requests against the real gateway on 127.0.0.1, sent byte for byte: each
// gets its documented status and catalogue error in OpenAI's shape, nothing gets a 5xx, and the
// process still answers /health afterwards. The table lives in hostile-cases.ts; generated bodies
// (hostile-arbitraries.ts, shared with /mcp's hostile-mcp.test.ts) break a valid request one way each.

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_BODY_LIMIT_BYTES } from "../../host/config/index.js";
import { ERROR_CATALOGUE, type ErrorCode } from "../../host/errors.js";
import { chat, type Harness, startHarness } from "./harness.js";
import { expectNoPrototypePollution, hostileBodies } from "./hostile-arbitraries.js";
import {
  deepExtra,
  HOSTILE_CASES,
  type HostileCase,
  requestHeaders,
  SMALL_BODY_LIMIT_BYTES,
} from "./hostile-cases.js";
import { type RawRequest, type RawResponse, rawRequest } from "./raw-http.js";

const CHAT = "/v1/chat/completions";
const PROPERTY_RUNS = 200;
/** A row with no header overrides: JSON content type and the default key. */
const PLAIN: HostileCase = { name: "plain", status: 0 };

/** The answer is one of the catalogue's errors, in OpenAI's shape with exactly its four fields. */
function expectCatalogueError(res: RawResponse, code: ErrorCode, param?: string | null): void {
  const entry = ERROR_CATALOGUE[code];
  expect(res.status, res.text.slice(0, 300)).toBe(entry.status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(res.headers["x-request-id"]).toBeTruthy();
  const error = (res.json as { error?: Record<string, unknown> } | undefined)?.error;
  expect(Object.keys(error ?? {}).sort(), res.text.slice(0, 300)).toEqual([
    "code",
    "message",
    "param",
    "type",
  ]);
  expect(error).toMatchObject({ type: entry.type, code });
  expect(error?.message).toEqual(expect.stringMatching(/\S/));
  if (param !== undefined) expect(error?.param).toBe(param);
  else expect(error?.param === null || typeof error?.param === "string").toBe(true);
}

/** Any 4xx: a catalogue code with its own status and type, in OpenAI's shape. */
function expectSomeCatalogueError(res: RawResponse): void {
  const code = (res.json as { error?: { code?: unknown } } | undefined)?.error?.code;
  expect(Object.keys(ERROR_CATALOGUE), `${res.status} ${res.text.slice(0, 300)}`).toContain(code);
  expectCatalogueError(res, code as ErrorCode);
}

describe("hostile and malformed requests against the running gateway", () => {
  let h: Harness;
  let small: Harness;
  const statuses: { name: string; status: number }[] = [];

  beforeAll(async () => {
    [h, small] = await Promise.all([
      startHarness(),
      startHarness(() => ({ server: { bodyLimitBytes: SMALL_BODY_LIMIT_BYTES } })),
    ]);
  });
  afterAll(async () => {
    await Promise.all([h?.close(), small?.close()]);
  });

  async function send(name: string, target: Harness, req: RawRequest): Promise<RawResponse> {
    const res = await rawRequest(target.gateway.url, req);
    statuses.push({ name, status: res.status });
    return res;
  }

  /** What the fakes received from here on: call the result after the request to get the bodies. */
  const watchUpstreams = (g: Harness) => {
    const seen = [g.local.requests.length, g.cloud.requests.length] as const;
    return () =>
      [...g.local.requests.slice(seen[0]), ...g.cloud.requests.slice(seen[1])].filter((r) =>
        r.path.endsWith("/chat/completions"),
      );
  };

  it("has at least 30 cases", () => {
    expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(30);
  });

  for (const row of HOSTILE_CASES) {
    it(row.name, () => runCase(row));
  }

  async function runCase(row: HostileCase): Promise<void> {
    const target = row.small ? small : h;
    const upstreamCalls = watchUpstreams(target);
    const res = await send(row.name, target, {
      method: row.method ?? "POST",
      path: row.path ?? CHAT,
      headers: requestHeaders(row),
      body: row.body,
      chunked: row.chunked,
    });
    if (row.code !== undefined) {
      expect(ERROR_CATALOGUE[row.code].status, "the row's status matches the catalogue").toBe(row.status);
      expectCatalogueError(res, row.code, row.param);
    } else {
      expect(res.status, res.text.slice(0, 300)).toBe(row.status);
    }
    for (const [name, want] of Object.entries(row.expectHeaders ?? {})) {
      const got = res.headers[name];
      if (typeof want === "string") expect(got, `header ${name}`).toBe(want);
      else expect(got, `header ${name}`).toMatch(want);
    }
    const sent = upstreamCalls();
    expect(sent.length, "upstream calls").toBeLessThanOrEqual(1);
    row.check?.(res, sent[0]?.body as Record<string, unknown> | undefined);
  }

  it("answers 200 OpenAI-shaped or a catalogue 4xx, never a 5xx, for 200 arbitrary JSON values", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
        const res = await send("arbitrary JSON", h, {
          path: CHAT,
          headers: requestHeaders(PLAIN),
          body: JSON.stringify(value),
        });
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expectSomeCatalogueError(res);
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("never answers a 5xx to 200 arbitrary byte strings sent as JSON", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (body) => {
        const res = await send("arbitrary bytes", h, {
          path: CHAT,
          headers: requestHeaders(PLAIN),
          body,
        });
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expectSomeCatalogueError(res);
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it("never answers a 5xx to 200 valid chat requests with arbitrary text and extra fields", async () => {
    const extraFields = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 4 }), {
      maxKeys: 4,
    });
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 200 }), extraFields, async (content, extra) => {
        const res = await send("valid chat with extras", h, {
          path: CHAT,
          headers: requestHeaders(PLAIN),
          body: JSON.stringify({ ...extra, ...chat(content) }),
        });
        expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
        if (res.status >= 400) expectSomeCatalogueError(res);
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it(`answers ${PROPERTY_RUNS} generated hostile bodies (bytes, nesting, huge strings, wrong types, prototype keys, unicode, content types) with 200 or a catalogue 4xx`, async () => {
    const template = chat("hello there", { max_tokens: 16, temperature: 0.5, stop: ["x"], user: "u" });
    const bodies = hostileBodies({ template, limitBytes: DEFAULT_BODY_LIMIT_BYTES });
    await fc.assert(
      fc.asyncProperty(bodies, async ({ kind, contentType, body }) => {
        const headers = requestHeaders({ ...PLAIN, headers: { "content-type": contentType } });
        const res = await send(`generated ${kind}`, h, { path: CHAT, headers, body });
        const context = `${kind} (${contentType}) -> ${res.status} ${res.text.slice(0, 300)}`;
        expect(res.status, context).toBeLessThan(500);
        if (res.status >= 400) expectSomeCatalogueError(res);
        else expect(res.json, context).toMatchObject({ object: "chat.completion" });
      }),
      { numRuns: PROPERTY_RUNS },
    );
    expectNoPrototypePollution();
  });

  it("is still up afterwards and answered no request with a 5xx", async () => {
    for (const g of [h, small]) {
      const health = await fetch(`${g.gateway.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });
    }
    expect(statuses.length).toBeGreaterThanOrEqual(HOSTILE_CASES.length + 4 * PROPERTY_RUNS);
    expect(statuses.filter((s) => s.status >= 500)).toEqual([]);
    // The gateway still serves a plain request from the local model.
    const ok = await h.post(CHAT, chat("hello after all that"));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-edge-target")).toBe("local/tiny");
  });
});

describe("a hostile body and target health", () => {
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.close();
  });

  it("does not count a body the gateway cannot forward against any target's circuit", async () => {
    h = await startHarness();
    // failureThreshold is 2 in the harness: two such requests would open both circuits.
    const hostile: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await rawRequest(h.gateway.url, {
        path: CHAT,
        headers: requestHeaders(PLAIN),
        body: deepExtra,
      });
      hostile.push(res.status);
    }
    // Health first: the table above already pins the status of the deep body itself.
    const res = await h.post(CHAT, chat("hello there"));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("x-edge-target")).toBe("local/tiny");
    expect(res.headers.get("x-edge-route-reason")).toBe("best_score");
    expect(
      hostile.every((status) => status < 500),
      `hostile answers ${hostile.join(", ")}`,
    ).toBe(true);
  });
});
