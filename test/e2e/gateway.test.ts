import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../host/config/index.js";
import { createLogger } from "../../host/logger.js";
import { type RunningGateway, startGateway } from "../../host/main.js";
import { captureLog } from "./log-capture.js";

describe("startGateway over real HTTP on 127.0.0.1", () => {
  let root: string;
  let gateway: RunningGateway | undefined;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "gw-e2e-"));
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await rm(root, { recursive: true, force: true });
  });

  async function start(dataDir: string) {
    const log = captureLog();
    const config = loadConfig({ argv: ["--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir] });
    const logger = createLogger({ level: "info", destination: log.destination });
    gateway = await startGateway(config, { logger, handleSignals: false });
    return { url: gateway.url, log };
  }

  it("serves /health, /ready and /metrics once started with a writable data directory", async () => {
    const { url, log } = await start(join(root, "data"));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(log.lines).toContainEqual(expect.objectContaining({ msg: "listening", url }));

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    expect(health.headers.get("x-request-id")).toBeTruthy();

    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", checks: { core: true, dataDir: true } });

    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^gateway_core_decisions_total\{op="allow",result="allow"\} 0$/m);
    expect(text).toMatch(/^gateway_core_memory_bytes [1-9]\d*$/m);
    expect(text).toMatch(/^gateway_ready 1$/m);
  });

  it("echoes a plain X-Request-Id over real HTTP and replaces one that is unsafe or too long", async () => {
    const { url } = await start(join(root, "data"));
    const idOf = async (value: string) =>
      (await fetch(`${url}/health`, { headers: { "X-Request-Id": value } })).headers.get("x-request-id");
    expect(await idOf("abc-123_X=")).toBe("abc-123_X=");
    for (const bad of ["a b", "x".repeat(256), "<script>"]) {
      expect(await idOf(bad)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });

  it("answers an unknown path with 404 in OpenAI's error shape", async () => {
    const { url } = await start(join(root, "data"));
    const res = await fetch(`${url}/v1/unknown`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({
      error: {
        message: "No route for GET /v1/unknown.",
        type: "invalid_request_error",
        code: "not_found",
        param: null,
      },
    });
  });

  it("stays live but answers /ready with 503 when the data directory is below a regular file", async () => {
    const file = join(root, "not-a-dir");
    await writeFile(file, "x");
    const { url, log } = await start(join(file, "data"));

    expect((await fetch(`${url}/health`)).status).toBe(200);
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get("retry-after")).toBe("1");
    expect(await ready.json()).toMatchObject({ status: "not_ready", checks: { core: true, dataDir: false } });
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^gateway_ready 0$/m);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 50, msg: "data directory is not writable; /ready answers 503" }),
    );
  });

  it("refuses new connections after close()", async () => {
    const { url } = await start(join(root, "data"));
    await gateway?.close();
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it("fails to start without binding a port when the policy core cannot be loaded", async () => {
    const log = captureLog();
    const config = loadConfig({ argv: ["--port", "0", "--data-dir", join(root, "data")] });
    const logger = createLogger({ level: "info", destination: log.destination });
    await expect(
      startGateway(config, { logger, handleSignals: false, wasmPath: join(root, "missing.wasm") }),
    ).rejects.toThrow(/^policy core failed to load: .*ENOENT/);
    // The core loads before the socket opens: nothing was ever listening.
    expect(log.lines.find((line) => line.msg === "listening")).toBeUndefined();
  });

  it("refuses to serve beyond loopback without an API key, before binding anything", async () => {
    const log = captureLog();
    const logger = createLogger({ level: "info", destination: log.destination });
    // Refused before any socket opens: the test never listens beyond 127.0.0.1.
    const open = loadConfig({ argv: ["--host", "0.0.0.0", "--port", "0", "--data-dir", join(root, "data")] });
    await expect(startGateway(open, { logger, handleSignals: false })).rejects.toThrow(
      /refusing to serve on 0\.0\.0\.0 without an API key/,
    );
    expect(log.lines.find((line) => line.msg === "listening")).toBeUndefined();
  });
});
