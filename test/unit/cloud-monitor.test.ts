import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { CloudMonitor } from "../../host/connectivity/cloud-monitor.js";
import { Core, coreConfigSchema, RouteFlag, TargetKind } from "../../host/core/index.js";
import { createLogger } from "../../host/logger.js";
import { createOpenAICompatibleProvider } from "../../host/providers/openai-compatible/index.js";
import { type FakeOpenAIUpstream, startFakeOpenAIUpstream } from "../fakes/openai-upstream.js";

let upstream: FakeOpenAIUpstream | undefined;
let monitor: CloudMonitor | undefined;
afterEach(async () => {
  monitor?.stop();
  await upstream?.close();
});

function setup(baseUrl: string, passiveFailures = 2) {
  const core = Core.load(coreConfigSchema.parse({}));
  core.configureTargets([
    {
      kind: TargetKind.Cloud,
      contextTokens: 8000,
      capabilities: 0,
      taskMask: 31,
      memoryMb: 0,
      maxInflight: 0,
    },
  ]);
  const provider = createOpenAICompatibleProvider({ name: "cloud/test", kind: "cloud", baseUrl });
  monitor = new CloudMonitor({
    provider,
    core,
    logger: createLogger({ level: "silent" }),
    intervalMs: 60_000,
    minMs: 10,
    maxMs: 40,
    passiveFailures,
    probeTimeoutMs: 1_000,
  });
  const cloudRoute = () =>
    core.route(
      {
        promptTokens: 1,
        maxTokens: 1,
        taskClass: 0,
        priority: 2,
        flags: RouteFlag.AllowCloud,
        capabilities: 0,
      },
      0,
    ).decision;
  return { core, monitor, cloudRoute };
}

describe("CloudMonitor", () => {
  it("finds the cloud reachable with a probe that gets any HTTP answer", async () => {
    upstream = await startFakeOpenAIUpstream();
    upstream.always({ status: 500 });
    const { monitor } = setup(upstream.url);
    expect(await monitor.probe()).toBe(true);
    expect(monitor.reachable).toBe(true);
  });

  it("marks the cloud unreachable after the passive failures and tells the core", async () => {
    upstream = await startFakeOpenAIUpstream();
    const { monitor, cloudRoute } = setup(upstream.url);
    monitor.reportFailure();
    expect(monitor.reachable).toBe(true);
    const changed = once(monitor, "change");
    monitor.reportFailure();
    expect(await changed).toEqual([false]);
    expect(cloudRoute()).toBe(3); // Decision.Reject: the only target is the unreachable cloud
    monitor.reportSuccess();
    expect(monitor.reachable).toBe(true);
    expect(cloudRoute()).toBe(1);
  });

  it("probes with backoff while down and announces the link's return", async () => {
    upstream = await startFakeOpenAIUpstream();
    const url = upstream.url;
    await upstream.close();
    const { monitor } = setup(url);
    monitor.start();
    await once(monitor, "change");
    expect(monitor.reachable).toBe(false);
    // The fake comes back on the same port; the next backoff probe finds it.
    const port = Number(new URL(url).port);
    upstream = await startFakeOpenAIUpstream({ port });
    const [reachable] = await once(monitor, "change");
    expect(reachable).toBe(true);
    expect(upstream.requests.some((r) => r.path === "/v1/models")).toBe(true);
  });
});
