// Starts a real gateway on 127.0.0.1 in front of two fake OpenAI upstreams: one standing in for a
// local model server (Ollama, llama-server) and one for the cloud.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type GatewayConfigInput, gatewayConfigSchema } from "../../host/config/index.js";
import { createLogger } from "../../host/logger.js";
import { type RunningGateway, startGateway } from "../../host/main.js";
import { type FakeOpenAIUpstream, startFakeOpenAIUpstream } from "../fakes/openai-upstream.js";

export interface Harness {
  gateway: RunningGateway;
  local: FakeOpenAIUpstream;
  cloud: FakeOpenAIUpstream;
  /** POST JSON to the gateway with a bearer key. */
  post(
    path: string,
    body: unknown,
    init?: { key?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

export const KEY = "test-key-default";
export const FREE_KEY = "test-key-free";

export async function startHarness(
  overrides: (local: string, cloud: string) => GatewayConfigInput = () => ({}),
): Promise<Harness> {
  const local = await startFakeOpenAIUpstream({ reply: "local answer", models: ["tiny"] });
  const cloud = await startFakeOpenAIUpstream({
    reply: "cloud answer",
    models: ["gpt-test"],
    apiKey: "cloud-secret",
  });
  const dataDir = mkdtempSync(join(tmpdir(), "gw-e2e-"));
  const base: GatewayConfigInput = {
    server: { host: "127.0.0.1", port: 0, dataDir },
    log: { level: "silent" },
    // The fakes stand in for the models; the built-in runner has its own tests (test/runner).
    models: { enabled: false },
    auth: { envKeys: `${KEY}:default,${FREE_KEY}:free` },
    local: { targets: [{ name: "tiny", url: local.url, contextTokens: 2048 }] },
    cloud: {
      url: cloud.url,
      apiKey: "cloud-secret",
      name: "main",
      model: "gpt-test",
      probeIntervalMs: 60_000,
    },
    core: {
      limiter: {
        tiers: {
          default: { requestsPerMinute: 6000, tokensPerMinute: 10_000_000 },
          free: { requestsPerMinute: 60, requestBurst: 2, tokensPerMinute: 100_000 },
        },
      },
      health: { failureThreshold: 2, openMs: 60_000 },
    },
  };
  const extra = overrides(local.url, cloud.url);
  const config = gatewayConfigSchema.parse(merge(base, extra));
  const gateway = await startGateway(config, {
    logger: createLogger({ level: "silent" }),
    handleSignals: false,
  });
  return {
    gateway,
    local,
    cloud,
    post: (path, body, init = {}) =>
      fetch(`${gateway.url}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${init.key ?? KEY}`,
          ...init.headers,
        },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    async close() {
      await gateway.close();
      await Promise.all([local.close(), cloud.close()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v &&
      typeof v === "object" &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === "object" &&
      !Array.isArray(prev)
        ? merge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: "auto",
  messages: [{ role: "user", content }],
  ...extra,
});
