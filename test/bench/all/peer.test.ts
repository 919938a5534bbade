import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Child } from "../http/processes.js";
import { type MockUpstream, startMockUpstream } from "../mock-upstream.js";
import { listeningAddresses, loopbackOnly } from "./listeners.js";
import { portkeyHeaders, startPortkey } from "./portkey.js";
import { peerChecks, type SideSummary } from "./report.js";

async function listen(host: string): Promise<Server> {
  const server = createServer().listen(0, host);
  await once(server, "listening");
  return server;
}

describe("listening addresses read from /proc", () => {
  it("tells loopback listeners from ones on every interface", async () => {
    const servers = await Promise.all(["127.0.0.1", "0.0.0.0", "::"].map(listen));
    try {
      const ports = servers.map((s) => (s.address() as { port: number }).port);
      const found = listeningAddresses(process.pid);
      expect(found).toContain(`127.0.0.1:${ports[0]}`);
      expect(found).toContain(`0.0.0.0:${ports[1]}`);
      expect(found).toContain(`[::]:${ports[2]}`);
      expect(loopbackOnly([`127.0.0.1:${ports[0]}`])).toBe(true);
      expect(loopbackOnly(found)).toBe(false);
      expect(loopbackOnly([])).toBe(false);
    } finally {
      for (const s of servers) s.close();
    }
  });
});

describe("Portkey as the bench starts it", () => {
  let upstream: MockUpstream;
  let portkey: { child: Child; origin: string };
  beforeAll(async () => {
    upstream = await startMockUpstream();
    portkey = await startPortkey();
  });
  afterAll(async () => {
    await portkey?.child.stop();
    await upstream?.close();
  });

  it("listens on 127.0.0.1 only", () => {
    const addresses = listeningAddresses(portkey.child.process.pid);
    expect(addresses).toHaveLength(1);
    expect(loopbackOnly(addresses)).toBe(true);
  });

  it("proxies a chat completion to the upstream named in its headers", async () => {
    const res = await request(`${portkey.origin}/v1/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer x",
        ...portkeyHeaders(upstream.url),
      },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    });
    const body = (await res.body.json()) as { object?: string; choices?: { message: { content: string } }[] };
    expect(res.statusCode).toBe(200);
    expect(body.object).toBe("chat.completion");
    expect(body.choices?.[0]?.message.content).toBe("Hello from the mock upstream.");
  });
});

describe("ratios against the peer", () => {
  const side = (over: Partial<SideSummary>): SideSummary => ({
    maxReqPerS: 1000,
    failures: 0,
    pacedP50Ms: 1,
    pacedP99Ms: 2,
    addedP50Ms: 0.5,
    addedP99Ms: 1,
    sseTtfbP50Ms: 1,
    sseTtfbP99Ms: 2,
    sseAddedP50Ms: 1,
    sseAddedP99Ms: 1,
    idleRssMb: 100,
    peakRssMb: 200,
    afterLoadRssMb: 150,
    ...over,
  });

  it("meets each target at its bound and misses just past it", () => {
    const peer = side({});
    const atBounds = peerChecks(side({ maxReqPerS: 5000, sseAddedP50Ms: 0.1, peakRssMb: 99 }), peer, "peer");
    expect(atBounds.checks.map((c) => c.met)).toEqual([true, true, true]);
    const past = peerChecks(side({ maxReqPerS: 4999, sseAddedP50Ms: 0.101, peakRssMb: 100 }), peer, "peer");
    expect(past.checks.map((c) => c.met)).toEqual([false, false, false]);
  });

  it("credits no throughput or latency ratio to a gateway that failed requests", () => {
    const result = peerChecks(side({ maxReqPerS: 9000, sseAddedP50Ms: 0.01, failures: 3 }), side({}), "peer");
    expect(result.checks.slice(0, 2).map((c) => c.met)).toEqual([false, false]);
    expect(result.checks[0]?.note).toContain("3 failed");
  });
});
