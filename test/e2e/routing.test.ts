import { afterEach, describe, expect, it } from "vitest";
import { chat, FREE_KEY, type Harness, startHarness } from "./harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("routing on 127.0.0.1 through the real gateway", () => {
  it("serves from the local target first and says so in the headers", async () => {
    h = await startHarness();
    const res = await h.post("/v1/chat/completions", chat("hello there"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-edge-target")).toBe("local/tiny");
    expect(res.headers.get("x-edge-route-reason")).toBe("best_score");
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("local answer");
    expect(h.local.requests[0]?.body.model).toBe("tiny");
    expect(h.cloud.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(0);
  });

  it("answers over real HTTP with each gateway header once: request id, route, limits and security", async () => {
    h = await startHarness();
    for (const stream of [false, true]) {
      const res = await h.post("/v1/chat/completions", { ...chat("hello there"), stream });
      await res.text();
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(stream ? /^text\/event-stream/ : /^application\/json/);
      for (const name of ["x-request-id", "x-edge-target", "x-edge-route-reason", "ratelimit-limit"])
        expect(res.headers.get(name), name).toMatch(/^[^,]+$/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    }
  });

  it("falls back to the cloud when the local target fails before the first byte", async () => {
    h = await startHarness();
    h.local.next({ status: 500 });
    const res = await h.post("/v1/chat/completions", chat("hello there"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-edge-target")).toBe("cloud/main");
    const cloudCall = h.cloud.requests.find((r) => r.path.endsWith("/chat/completions"));
    expect(cloudCall?.body.model).toBe("gpt-test");
    // The cloud gets the gateway's credential, never the client's.
    expect(cloudCall?.headers.authorization).toBe("Bearer cloud-secret");
  });

  it("falls back for a stream that fails before its first chunk, and streams the cloud's answer", async () => {
    h = await startHarness();
    h.local.next({ status: 503 });
    const res = await h.post("/v1/chat/completions", chat("hi", { stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(res.headers.get("x-edge-target")).toBe("cloud/main");
    const text = await res.text();
    expect(text).toContain('"content":"cloud"');
    expect(text.trim().endsWith("data: [DONE]")).toBe(true);
  });

  it("ends a stream that breaks after its first chunk with an error event, without falling back", async () => {
    h = await startHarness();
    h.local.next({ dropAfterChunks: 2 });
    const res = await h.post("/v1/chat/completions", chat("hi", { stream: true }));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"code":"upstream_error"');
    expect(text).not.toContain("[DONE]");
    expect(h.cloud.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(0);
  });

  it("never sends a request containing personal data to the cloud, even when local fails", async () => {
    h = await startHarness();
    h.local.always({ status: 500 });
    const res = await h.post("/v1/chat/completions", chat("mail me at jane.doe@example.com"));
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_error");
    expect(h.cloud.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(0);
    // The same request without the address falls back to the cloud.
    const clean = await h.post("/v1/chat/completions", chat("mail me please"));
    expect(clean.headers.get("x-edge-target")).toBe("cloud/main");
  });

  it("refuses a PII request that only the cloud could serve, and never calls the cloud", async () => {
    h = await startHarness();
    const forced = await h.post("/v1/chat/completions", chat("my IBAN is DE89 3704 0044 0532 0130 00"), {
      headers: { "x-edge-route": "cloud" },
    });
    expect(forced.status).toBe(422);
    expect(((await forced.json()) as { error: { code: string } }).error.code).toBe("pii_requires_local");
    // Too long for the local model, and kept off the cloud by the card number: still personal data
    // is the reason, since the cloud could have served it.
    const long = await h.post(
      "/v1/chat/completions",
      chat(`${"word ".repeat(3000)} card 4111 1111 1111 1111`),
    );
    expect(long.status).toBe(422);
    expect(((await long.json()) as { error: { code: string } }).error.code).toBe("pii_requires_local");
    expect(h.cloud.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(0);
  });

  it("opens the local circuit after repeated failures and stops calling the target", async () => {
    h = await startHarness();
    h.local.always({ status: 500 });
    const local = { headers: { "x-edge-route": "local" } };
    for (let i = 0; i < 2; i++) {
      const res = await h.post("/v1/chat/completions", chat("hello"), local);
      expect(res.status).toBe(502);
    }
    expect(h.local.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(2);
    const tripped = await h.post("/v1/chat/completions", chat("hello"), local);
    expect(tripped.status).toBe(503);
    expect(tripped.headers.get("retry-after")).toBe("60");
    expect(tripped.headers.get("x-edge-route-reason")).toBe("circuit_open");
    expect(((await tripped.json()) as { error: { code: string } }).error.code).toBe("target_unavailable");
    expect(h.local.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(2);
    const auto = await h.post("/v1/chat/completions", chat("hello"));
    expect(auto.headers.get("x-edge-target")).toBe("cloud/main");
    expect(auto.headers.get("x-edge-route-reason")).toBe("only_candidate");
    const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_circuit_state\{target="local\/tiny"\} 1/);
  });

  it("prefers the cloud while the local target's recent errors outweigh the local-first bias", async () => {
    h = await startHarness();
    h.local.next({ status: 500 });
    expect((await h.post("/v1/chat/completions", chat("hello"))).headers.get("x-edge-target")).toBe(
      "cloud/main",
    );
    // One error in three decayed samples costs the local target more than the cloud's bias.
    expect((await h.post("/v1/chat/completions", chat("hello"))).headers.get("x-edge-target")).toBe(
      "cloud/main",
    );
    expect(h.local.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(1);
  });

  it("limits a key to its tier's burst with 429, Retry-After and RateLimit headers", async () => {
    h = await startHarness();
    for (let i = 0; i < 2; i++) {
      const ok = await h.post("/v1/chat/completions", chat("hi"), { key: FREE_KEY });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("ratelimit-limit")).toBe("2");
      expect(ok.headers.get("ratelimit-remaining")).toBe(String(1 - i));
    }
    const res = await h.post("/v1/chat/completions", chat("hi"), { key: FREE_KEY });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get("ratelimit-remaining")).toBe("0");
    const body = (await res.json()) as { error: { type: string; code: string } };
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    // Another key is not affected.
    expect((await h.post("/v1/chat/completions", chat("hi"))).status).toBe(200);
    const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_ratelimit_rejections_total\{tier="free",limit="requests"\} 1/);
  });

  it("forces a side with model ids and x-edge-route, and rejects unknown models", async () => {
    h = await startHarness();
    const cloud = await h.post("/v1/chat/completions", chat("hi", { model: "cloud/main" }));
    expect(cloud.headers.get("x-edge-target")).toBe("cloud/main");
    expect(cloud.headers.get("x-edge-route-reason")).toBe("forced_cloud");
    const header = await h.post("/v1/chat/completions", chat("hi"), { headers: { "x-edge-route": "cloud" } });
    expect(header.headers.get("x-edge-target")).toBe("cloud/main");
    const unknown = await h.post("/v1/chat/completions", chat("hi", { model: "gpt-nope" }));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
  });

  it("lists auto, every target and the aliases", async () => {
    h = await startHarness(() => ({ routing: { aliases: { "gpt-4o-mini": "auto" } } }));
    const res = await fetch(`${h.gateway.url}/v1/models`, {
      headers: { authorization: "Bearer test-key-default" },
    });
    const ids = ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(ids).toEqual(["auto", "local/tiny", "cloud/main", "gpt-4o-mini"]);
    const aliased = await h.post("/v1/chat/completions", chat("hi", { model: "gpt-4o-mini" }));
    expect(aliased.status).toBe(200);
  });

  it("aborts the upstream call when the client goes away mid-stream", async () => {
    h = await startHarness();
    h.local.next({ delayBetweenChunksMs: 50, reply: "one two three four five six seven eight nine ten" });
    const res = await h.post("/v1/chat/completions", chat("hi", { stream: true }));
    const reader = res.body?.getReader();
    expect((await reader?.read())?.done).toBe(false);
    await reader?.cancel();
    const local = h.local;
    await local.until(() => local.closedEarly === 1);
    expect(local.closedEarly).toBe(1);
  });

  it("reports the cloud unreachable after connect failures and on /ready", async () => {
    h = await startHarness((_local, cloud) => ({
      cloud: { url: cloud.replace(/:\d+\//, ":1/"), passiveFailures: 1, probeMinMs: 60_000 },
    }));
    const res = await h.post("/v1/chat/completions", chat("hi"), { headers: { "x-edge-route": "cloud" } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("cloud_unreachable");
    const ready = (await (await fetch(`${h.gateway.url}/ready`)).json()) as { cloud: { reachable: boolean } };
    expect(ready.cloud.reachable).toBe(false);
    const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_cloud_reachable 0/);
  });
});
