import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { RunnerSupervisor } from "./supervisor.js";

const QUEUE_WAIT_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const STATUSES = ["starting", "ready", "restarting", "failed", "stopped"] as const;

/**
 * The model runner's metrics on the gateway's registry. Model state is read at scrape time; queue
 * waits and restarts are recorded as they happen. Returns a function that stops recording.
 */
export function registerRunnerMetrics(registry: Registry, supervisor: RunnerSupervisor): () => void {
  const registers = [registry];
  new Gauge({
    name: "gateway_model_loaded",
    help: "1 while the local model is loaded in the runner, 0 otherwise.",
    labelNames: ["model"] as const,
    registers,
    collect() {
      for (const m of supervisor.state().models) this.set({ model: m.id }, m.state === "loaded" ? 1 : 0);
    },
  });
  new Gauge({
    name: "gateway_model_load_seconds",
    help: "How long the model's last load took in the runner.",
    labelNames: ["model"] as const,
    registers,
    collect() {
      for (const m of supervisor.state().models) {
        if (m.loadMs !== undefined) this.set({ model: m.id }, m.loadMs / 1000);
      }
    },
  });
  new Gauge({
    name: "gateway_model_tokens_per_second",
    help: "Decode speed of the model's last completed generation (tokens after the first, per second).",
    labelNames: ["model"] as const,
    registers,
    collect() {
      for (const m of supervisor.state().models) {
        if (m.tokensPerSecond !== undefined) this.set({ model: m.id }, m.tokensPerSecond);
      }
    },
  });
  new Gauge({
    name: "gateway_model_queue_depth",
    help: "Requests waiting for a free sequence of the model.",
    labelNames: ["model"] as const,
    registers,
    collect() {
      for (const m of supervisor.state().models) this.set({ model: m.id }, m.queued);
    },
  });
  new Gauge({
    name: "gateway_runner_status",
    help: "1 for the model runner's current status (starting, ready, restarting, failed, stopped).",
    labelNames: ["status"] as const,
    registers,
    collect() {
      const { status } = supervisor.state();
      for (const s of STATUSES) this.set({ status: s }, s === status ? 1 : 0);
    },
  });
  const queueWait = new Histogram({
    name: "gateway_model_queue_wait_seconds",
    help: "Time a request waited for a free sequence of the model (0 when one was free).",
    labelNames: ["model"] as const,
    buckets: QUEUE_WAIT_BUCKETS_S,
    registers,
  });
  const restarts = new Counter({
    name: "gateway_runner_restarts_total",
    help: "Times the model runner process died and was restarted.",
    registers,
  });
  const generations = new Counter({
    name: "gateway_model_generations_total",
    help: "Generations the runner ended, by outcome: completed, aborted (the runner confirmed the stop), failed.",
    labelNames: ["model", "outcome"] as const,
    registers,
  });
  // Aborted generations count too: what a client that went away cost the device before the stop.
  const generatedTokens = new Counter({
    name: "gateway_model_generated_tokens_total",
    help: "Tokens the model generated, by how the generation ended; an aborted one counts those before the stop.",
    labelNames: ["model", "outcome"] as const,
    registers,
  });
  return supervisor.addListener({
    queueWait: (model, waitMs) => queueWait.observe({ model }, waitMs / 1000),
    restart: () => restarts.inc(),
    generationEnd: (model, _id, end) => {
      generations.inc({ model, outcome: end.outcome });
      generatedTokens.inc({ model, outcome: end.outcome }, end.completionTokens);
    },
  });
}
