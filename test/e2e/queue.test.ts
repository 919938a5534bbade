import { afterEach, describe, expect, it } from "vitest";
import { startFakeOpenAIUpstream } from "../fakes/openai-upstream.js";
import { chat, FREE_KEY, type Harness, KEY, startHarness } from "./harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ASYNC = { prefer: "respond-async" };
const get = (h: Harness, path: string, key = KEY) =>
  fetch(`${h.gateway.url}${path}`, { headers: { authorization: `Bearer ${key}` } });

interface ItemView {
  id: string;
  status: string;
  attempts: number;
  result: { status: number; body: { choices: { message: { content: string } }[] } } | null;
}

describe("the offline queue through the running gateway", () => {
  it("accepts a cloud request with Prefer: respond-async, delivers it, and serves the stored answer", async () => {
    h = await startHarness();
    const res = await h.post("/v1/chat/completions", chat("hello", { model: "cloud/main" }), {
      headers: ASYNC,
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("preference-applied")).toBe("respond-async");
    const accepted = (await res.json()) as ItemView;
    expect(res.headers.get("location")).toBe(`/v1/queue/${accepted.id}`);
    expect(accepted.id).toMatch(/^q_[\w-]{22}$/);
    const polled = (await (await get(h, `/v1/queue/${accepted.id}?wait=10`)).json()) as ItemView;
    const done =
      polled.status === "done"
        ? polled
        : ((await (await get(h, `/v1/queue/${accepted.id}?wait=10`)).json()) as ItemView);
    expect(done.status).toBe("done");
    expect(done.result?.status).toBe(200);
    expect(done.result?.body.choices[0]?.message.content).toBe("cloud answer");
    const delivered = h.cloud.requests.filter((r) => r.path.endsWith("/chat/completions"));
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.headers["idempotency-key"]).toBe(accepted.id);
    // The raw result is the cloud's answer byte for byte.
    const raw = await get(h, `/v1/queue/${accepted.id}/result`);
    expect(raw.status).toBe(200);
    expect(((await raw.json()) as { object: string }).object).toBe("chat.completion");
  });

  it("queues while the cloud is unreachable and delivers when it returns", async () => {
    h = await startHarness(() => ({ cloud: { passiveFailures: 1, probeMinMs: 50, probeMaxMs: 100 } }));
    const port = Number(new URL(h.cloud.url).port);
    await h.cloud.close();
    // Local cannot take this one (too long), so it needs the cloud.
    const long = chat("word ".repeat(3000), { max_tokens: 10 });
    const first = await h.post("/v1/chat/completions", long);
    expect(first.status).toBe(503);
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe("cloud_unreachable");
    const queued = await h.post("/v1/chat/completions", long, { headers: ASYNC });
    expect(queued.status).toBe(202);
    const { id } = (await queued.json()) as ItemView;
    h.cloud = await startFakeOpenAIUpstream({ reply: "back online", apiKey: "cloud-secret", port });
    let item: ItemView;
    do {
      item = (await (await get(h, `/v1/queue/${id}?wait=5`)).json()) as ItemView;
    } while (item.status !== "done");
    expect(item.result?.body.choices[0]?.message.content).toBe("back online");
  });

  it("returns the same item for the same Idempotency-Key and keeps other clients out", async () => {
    h = await startHarness();
    h.cloud.always({ hang: true, path: "/v1/chat/completions" });
    const headers = { ...ASYNC, "idempotency-key": "order-42" };
    const a = (await (
      await h.post("/v1/chat/completions", chat("hi", { model: "cloud/main" }), { headers })
    ).json()) as ItemView;
    const b = (await (
      await h.post("/v1/chat/completions", chat("hi", { model: "cloud/main" }), { headers })
    ).json()) as ItemView;
    expect(b.id).toBe(a.id);
    // Another key sees nothing, not even that the id exists.
    const other = await get(h, `/v1/queue/${a.id}`, FREE_KEY);
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe("queue_item_not_found");
    const del = await fetch(`${h.gateway.url}/v1/queue/${a.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${FREE_KEY}` },
    });
    expect(del.status).toBe(404);
  });

  it("cancels a queued item, and refuses to cancel one that finished", async () => {
    h = await startHarness(() => ({ cloud: { passiveFailures: 1, probeMinMs: 60_000, probeMaxMs: 60_000 } }));
    await h.cloud.close();
    await h.post("/v1/chat/completions", chat("word ".repeat(3000)));
    const { id } = (await (
      await h.post("/v1/chat/completions", chat("x ".repeat(6000)), { headers: ASYNC })
    ).json()) as ItemView;
    const del = await fetch(`${h.gateway.url}/v1/queue/${id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(del.status).toBe(200);
    expect(((await del.json()) as ItemView).status).toBe("cancelled");
    // DELETE is idempotent: cancelling again answers with the same state.
    const again = await fetch(`${h.gateway.url}/v1/queue/${id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as ItemView).status).toBe("cancelled");
  });

  it("refuses to cancel an item that was already delivered", async () => {
    h = await startHarness();
    const res = await h.post("/v1/chat/completions", chat("hello", { model: "cloud/main" }), {
      headers: ASYNC,
    });
    const { id } = (await res.json()) as ItemView;
    while (((await (await get(h, `/v1/queue/${id}?wait=5`)).json()) as ItemView).status !== "done");
    const del = await fetch(`${h.gateway.url}/v1/queue/${id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(del.status).toBe(409);
    expect(((await del.json()) as { error: { code: string } }).error.code).toBe("queue_item_not_cancellable");
  });

  it("replays the stored answer for a repeated Idempotency-Key instead of recomputing it", async () => {
    h = await startHarness();
    const headers = { "idempotency-key": "sync-item-7" };
    const first = await h.post("/v1/chat/completions", chat("hello"), { headers });
    const firstBody = await first.text();
    const second = await h.post("/v1/chat/completions", chat("hello"), { headers });
    expect(second.status).toBe(200);
    expect(second.headers.get("x-edge-idempotent-replay")).toBe("true");
    expect(await second.text()).toBe(firstBody);
    expect(h.local.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(1);
    // The key is per client: another key with the same value is a new request.
    const other = await h.post("/v1/chat/completions", chat("hello"), { headers, key: FREE_KEY });
    expect(other.headers.get("x-edge-idempotent-replay")).toBeNull();
    expect(h.local.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(2);
  });

  it("never queues a stream", async () => {
    h = await startHarness(() => ({ cloud: { passiveFailures: 1, probeMinMs: 60_000 } }));
    await h.cloud.close();
    await h.post("/v1/chat/completions", chat("word ".repeat(3000)));
    const res = await h.post("/v1/chat/completions", chat("word ".repeat(3000), { stream: true }), {
      headers: ASYNC,
    });
    expect(res.status).toBe(503);
  });
});
