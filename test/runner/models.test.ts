/**
 * Model lifecycle in a real runner: loading on first use, least-recently-used unloading under the
 * memory budget, refusing when only busy models could make room, and the runner's metrics.
 */
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../host/providers/types.js";
import { registerRunnerMetrics } from "../../host/runner/metrics.js";
import type { RunnerSupervisor } from "../../host/runner/supervisor.js";
import { drain, startRunner, tinySpec } from "./helpers.js";

const REQUEST = { messages: [{ role: "user" as const, content: "Hi" }], maxTokens: 4, temperature: 0 };
const signal = () => new AbortController().signal;

let supervisor: RunnerSupervisor | undefined;
afterEach(async () => {
  await supervisor?.close();
  supervisor = undefined;
});

const modelState = (s: RunnerSupervisor, id: string) => s.state().models.find((m) => m.id === id)?.state;

describe("runner models", () => {
  it("loads a model on first use when it is not loaded at start", async () => {
    supervisor = await startRunner({ models: [tinySpec({ loadAtStart: false })] });
    expect(modelState(supervisor, "tiny")).toBe("unloaded");
    const { done } = await drain(await supervisor.generate("tiny", REQUEST, signal()));
    expect(done.completionTokens).toBeGreaterThan(0);
    expect(modelState(supervisor, "tiny")).toBe("loaded");
  });

  it("unloads the least recently used idle model to stay within the memory budget", async () => {
    const unloaded: string[] = [];
    supervisor = await startRunner({
      models: [
        tinySpec({ id: "a", memoryMb: 60, loadAtStart: true }),
        tinySpec({ id: "b", memoryMb: 60, loadAtStart: false }),
        tinySpec({ id: "c", memoryMb: 60, loadAtStart: false }),
      ],
      memoryBudgetMb: 130,
    });
    supervisor.addListener({ modelUnloaded: (id, reason) => unloaded.push(`${id}:${reason}`) });
    await drain(await supervisor.generate("b", REQUEST, signal()));
    expect(supervisor.state().memoryUsedMb).toBe(120);
    // a was used before b: loading c unloads a, not b.
    await drain(await supervisor.generate("c", REQUEST, signal()));
    expect(unloaded).toEqual(["a:lru"]);
    expect(supervisor.state().models.map((m) => m.state)).toEqual(["unloaded", "loaded", "loaded"]);
    expect(supervisor.memoryFreeMb()).toBe(10);
  });

  it("refuses with 503 when only a busy model could make room, and loads once it is idle", async () => {
    supervisor = await startRunner({
      models: [tinySpec({ id: "a", memoryMb: 60 }), tinySpec({ id: "b", memoryMb: 60, loadAtStart: false })],
      memoryBudgetMb: 100,
    });
    const busy = await supervisor.generate(
      "a",
      { ...REQUEST, maxTokens: 900, temperature: 0.8, seed: 1, logitBias: { "2": -100 } },
      signal(),
    );
    await busy.read();
    const err = await supervisor.generate("b", REQUEST, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).details.status).toBe(503);
    expect((err as ProviderError).message).toContain("memory budget");
    expect(modelState(supervisor, "b")).toBe("unloaded");
    busy.cancel();
    await expect.poll(() => supervisor?.state().models[0]?.running).toBe(0);
    await drain(await supervisor.generate("b", REQUEST, signal()));
    expect(modelState(supervisor, "a")).toBe("unloaded");
  });

  it("refuses a model larger than the whole budget without touching the runner", async () => {
    supervisor = await startRunner({
      models: [tinySpec({ id: "huge", memoryMb: 500, loadAtStart: false })],
      memoryBudgetMb: 100,
    });
    const err = await supervisor.generate("huge", REQUEST, signal()).catch((e: unknown) => e);
    expect((err as ProviderError).message).toContain("memory budget is 100 MB");
    expect(modelState(supervisor, "huge")).toBe("refused");
  });

  it("ends generations in flight as aborted when closed, and does not restart the runner", async () => {
    const s = await startRunner();
    supervisor = s;
    const running = await s.generate(
      "tiny",
      { ...REQUEST, maxTokens: 400, temperature: 0.8, seed: 1, logitBias: { "2": -100 } },
      signal(),
    );
    await running.read();
    await s.close();
    await expect(running.read()).rejects.toMatchObject({ kind: "aborted" });
    expect(s.state()).toMatchObject({ status: "stopped", restarts: 0 });
  });

  it("exports loaded state, load time, decode speed, queue wait, generations and restarts as gateway_ metrics", async () => {
    supervisor = await startRunner();
    const registry = new Registry();
    registerRunnerMetrics(registry, supervisor);
    await drain(
      await supervisor.generate(
        "tiny",
        { ...REQUEST, maxTokens: 16, temperature: 0.8, seed: 3, logitBias: { "2": -100 } },
        signal(),
      ),
    );
    const text = await registry.metrics();
    expect(text).toContain('gateway_model_loaded{model="tiny"} 1');
    expect(text).toMatch(/gateway_model_load_seconds\{model="tiny"\} \d/);
    expect(text).toMatch(/gateway_model_tokens_per_second\{model="tiny"\} \d/);
    expect(text).toContain('gateway_model_queue_wait_seconds_count{model="tiny"} 1');
    expect(text).toContain('gateway_model_generations_total{model="tiny",outcome="completed"} 1');
    expect(text).toContain('gateway_model_generated_tokens_total{model="tiny",outcome="completed"} 16');
    expect(text).toContain("gateway_runner_restarts_total 0");
    expect(text).toContain('gateway_runner_status{status="ready"} 1');
  });
});
