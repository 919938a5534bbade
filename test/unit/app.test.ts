import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { type AppDeps, createApp } from "../../host/app.js";
import { loadConfig } from "../../host/config/index.js";
import type { Core } from "../../host/core/index.js";
import { createLogger } from "../../host/logger.js";
import { createMetrics } from "../../host/metrics/index.js";

/** Readiness only asks whether a core is present, so any object stands in for one here. */
const PRESENT_CORE = {} as Core;

function build(overrides: Partial<AppDeps> = {}) {
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const deps: AppDeps = {
    config: loadConfig({ env: { GATEWAY_SERVER__BODY_LIMIT_BYTES: "16" } }),
    logger: createLogger({ level: "info", destination }),
    metrics: createMetrics(),
    getCore: () => PRESENT_CORE,
    checkDataDir: () => true,
    ...overrides,
  };
  return { app: createApp(deps), logLines };
}

describe("createApp", () => {
  it("answers /health with 200 and a request id", async () => {
    const { app } = build({ getCore: () => undefined, checkDataDir: () => false });
    const res = await app.request("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^[\w-]+$/);
  });

  it("echoes a well-formed incoming X-Request-Id", async () => {
    const { app } = build();
    const res = await app.request("/health", { headers: { "X-Request-Id": "abc-123" } });
    expect(res.headers.get("x-request-id")).toBe("abc-123");
  });

  it("answers /ready with 200 once the core is loaded and the data directory is writable", async () => {
    const { app } = build();
    const res = await app.request("/ready");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready", checks: { core: true, dataDir: true } });
  });

  it("answers /ready with 503, the failing check and Retry-After while the core is loading", async () => {
    const { app } = build({ getCore: () => undefined });
    const res = await app.request("/ready");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toEqual({ status: "not_ready", checks: { core: false, dataDir: true } });
  });

  it("answers /ready with 503 when the data directory check fails or throws", async () => {
    for (const checkDataDir of [async () => false, () => Promise.reject(new Error("EIO"))]) {
      const { app } = build({ checkDataDir });
      const res = await app.request("/ready");
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ checks: { core: true, dataDir: false } });
    }
  });

  it("serves the registry's text with its content type on /metrics", async () => {
    const { app } = build();
    const res = await app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(await res.text()).toContain("process_resident_memory_bytes");
  });

  it("answers an unknown path with 404 in OpenAI's error shape", async () => {
    const { app } = build();
    const res = await app.request("/v1/nothing-here", { method: "POST" });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(await res.json()).toEqual({
      error: {
        message: "No route for POST /v1/nothing-here.",
        type: "invalid_request_error",
        code: "not_found",
        param: null,
      },
    });
  });

  it("answers a body over the limit with 413 in OpenAI's error shape", async () => {
    const { app } = build();
    // Refused on the declared length, before anything is read.
    const res = await app.request("/health", {
      method: "POST",
      body: "x".repeat(17),
      headers: { "content-length": "17" },
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "payload_too_large" } });
  });

  it("turns a thrown error into a 500 that hides the cause and logs it under the request id", async () => {
    const { app, logLines } = build();
    app.get("/boom", () => {
      throw new Error("secret internal detail at /srv/x.ts:12");
    });
    const res = await app.request("/boom");
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("secret");
    expect(JSON.parse(text)).toEqual({
      error: { message: expect.any(String), type: "server_error", code: "internal_error", param: null },
    });
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toBeTruthy();
    const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(expect.objectContaining({ requestId, msg: "request failed" }));
  });
});
