// The status page in a real browser: Debian's Chromium driven by playwright-core, against a running
// gateway that serves the tiny model, holds a queued request for an unreachable cloud and has
// refused a request over its rate limit. The screenshot is kept in test-artifacts/.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayConfigSchema } from "../../host/config/index.js";
import { createLogger } from "../../host/logger.js";
import { type RunningGateway, startGateway } from "../../host/main.js";
import { REPO_ROOT } from "../e2e/cli-process.js";
import { freePort } from "../support/free-port.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = join(REPO_ROOT, "test-artifacts");
const ADMIN_KEY = "status-admin-key";
const FREE_KEY = "status-free-key";
const sha = (key: string) => createHash("sha256").update(key).digest("hex");

let gateway: RunningGateway;
let browser: Browser;
let dataDir: string;

const post = (body: unknown, key: string, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
  });
const hello = { model: "auto", messages: [{ role: "user", content: "hi" }], max_tokens: 8 };

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: apt-get install chromium (.ci/run does) or set CHROMIUM_PATH`,
    );
  dataDir = mkdtempSync(join(tmpdir(), "gw-status-"));
  const closedPort = await freePort();
  const config = gatewayConfigSchema.parse({
    server: { port: 0, dataDir },
    log: { level: "silent" },
    models: { threads: 1 },
    cloud: {
      url: `http://127.0.0.1:${closedPort}/v1`,
      apiKey: "unused",
      name: "main",
      probeIntervalMs: 60_000,
    },
    auth: {
      keys: [
        { id: "operator", sha256: sha(ADMIN_KEY), scopes: ["chat", "queue", "admin"] },
        { id: "kiosk", sha256: sha(FREE_KEY), tier: "free", scopes: ["chat"] },
      ],
    },
    core: {
      limiter: {
        tiers: {
          default: { requestsPerMinute: 6000, tokensPerMinute: 10_000_000 },
          free: { requestsPerMinute: 60, requestBurst: 1, tokensPerMinute: 100_000 },
        },
      },
    },
  });
  gateway = await startGateway(config, { logger: createLogger({ level: "silent" }), handleSignals: false });
  // The tiny model loads in the runner; the first local answer proves it is serving.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await post(hello, ADMIN_KEY, { "x-edge-route": "local" });
    if (res.status === 200) break;
    if (Date.now() > deadline) throw new Error(`the tiny model did not serve: ${res.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // A cloud request while the cloud is unreachable, asked to wait in the queue.
  const queued = await post(hello, ADMIN_KEY, { "x-edge-route": "cloud", prefer: "respond-async" });
  expect(queued.status).toBe(202);
  // The free tier's burst is one request: the second is refused.
  await post(hello, FREE_KEY);
  expect((await post(hello, FREE_KEY)).status).toBe(429);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("the status page at /", () => {
  it("asks a browser for an admin key, and refuses a key without the admin scope", async () => {
    // Headless Chromium cannot show the password prompt, so the challenge is read without it.
    const context = await browser.newContext();
    const anonymous = await context.request.get(`${gateway.url}/`);
    expect(anonymous.status()).toBe(401);
    expect(anonymous.headers()["www-authenticate"]).toMatch(/^Basic /);
    const kiosk = await context.request.get(`${gateway.url}/`, {
      headers: { authorization: `Basic ${Buffer.from(`kiosk:${FREE_KEY}`).toString("base64")}` },
    });
    expect(kiosk.status()).toBe(403);
    await context.close();
  });

  it("shows the loaded model, the queued item, targets, decisions, rejections and refreshes itself", async () => {
    const context = await browser.newContext({
      httpCredentials: { username: "operator", password: ADMIN_KEY },
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    const res = await page.goto(`${gateway.url}/`);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe("edge-gateway status");
    expect(await page.getAttribute('meta[http-equiv="refresh"]', "content")).toBe("5");

    const model = page.locator('[data-model="tiny-demo"] .badge');
    expect(await model.getAttribute("data-value")).toBe("loaded");
    expect(await page.locator("#runner .badge").getAttribute("data-value")).toBe("ready");

    const waiting = Number(await page.locator('[data-queue-status="queued"] td.num').textContent());
    const sending = Number(await page.locator('[data-queue-status="inflight"] td.num').textContent());
    expect(waiting + sending).toBe(1);
    expect(await page.locator("#queue-oldest td.num").textContent()).toMatch(/s ago|min ago/);

    expect(await page.locator('[data-target="local/tiny-demo"] .badge').getAttribute("data-value")).toBe(
      "closed",
    );
    expect(await page.locator('[data-target="cloud/main"]').count()).toBe(1);

    const decisions = await page.locator("#decisions tbody").textContent();
    expect(decisions).toContain("local/tiny-demo");
    expect(decisions).toContain("queue");

    expect(await page.locator('[data-rejections="free/requests"] td.num').textContent()).toBe("1");
    expect(await page.locator("#mcp tbody").textContent()).toContain("no MCP upstreams configured");

    // Small and self-contained: no script, no external resource.
    expect(await page.locator("script").count()).toBe(0);
    const html = await res?.text();
    expect(Buffer.byteLength(html ?? "")).toBeLessThan(16 * 1024);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "status-page.png"), fullPage: true });
    await context.close();
  });
});
