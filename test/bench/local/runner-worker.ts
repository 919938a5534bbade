/**
 * The gateway side of the local bench, in its own process as in the gateway: the llama-cpp provider
 * over a RunnerSupervisor, whose runner child runs node-llama-cpp. Driven over IPC by
 * test/bench/local.ts. In dist mode it is bundled and run by plain node and imports the compiled
 * modules, so its resident memory is what the runner costs a built gateway; otherwise it runs
 * under tsx on the sources.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { pino } from "pino";
import type * as ProviderModule from "../../../host/providers/llama-cpp/index.js";
import type { Provider } from "../../../host/providers/types.js";
import type * as RunnerModule from "../../../host/runner/index.js";
import { type RunFigures, timeSse } from "./measure.js";

export type WorkerCommand =
  /** `hostDir`: the absolute path of dist/host or host, whose modules are imported. */
  | { type: "init"; modelPath: string; threads: number; contextTokens: number; hostDir: string }
  | { type: "run"; prompt: string; tokens: number; seed: number; eosToken: number }
  | { type: "restart" }
  | { type: "memory" }
  | { type: "close" };

export type WorkerReply =
  | { type: "init"; startMs: number; childInitPid: number | undefined }
  | {
      type: "run";
      figures: RunFigures;
      /** The child's own view: decode speed, and time to first token from its receiving the request. */
      childTokensPerS: number | undefined;
      childTtftMs: number | undefined;
    }
  | { type: "restart"; recoveryMs: number }
  | { type: "memory"; workerRssMb: number; runnerRssMb: number | undefined; runnerPid: number | undefined }
  | { type: "closed" }
  | { type: "error"; message: string };

let supervisor: RunnerModule.RunnerSupervisor | undefined;
let lastChildTtftMs: number | undefined;
let provider: Provider | undefined;

/** Resident memory as the kernel reports it (VmRSS), not a heap estimate. */
export function rssMbOf(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 102.4) / 10;
  } catch {
    return undefined;
  }
}

async function handle(command: WorkerCommand): Promise<WorkerReply> {
  switch (command.type) {
    case "init": {
      const module = (path: string) => pathToFileURL(join(command.hostDir, path)).href;
      const runner = (await import(module("runner/index.js"))) as typeof RunnerModule;
      const providers = (await import(module("providers/llama-cpp/index.js"))) as typeof ProviderModule;
      const startedMs = performance.now();
      supervisor = new runner.RunnerSupervisor({
        models: [
          {
            id: "bench",
            path: command.modelPath,
            contextTokens: command.contextTokens,
            sequences: 1,
            maxQueue: 0,
            threads: command.threads,
            memoryMb: 64,
            loadAtStart: true,
          },
        ],
        threads: command.threads,
        checkModelFile: () => [],
        // Errors only: llama.cpp warns that the bench context exceeds the tiny model's trained 512 tokens.
        logger: pino({ level: "error" }),
      });
      supervisor.addListener({
        generationEnd: (_model, _id, end) => {
          lastChildTtftMs = end.firstTokenMs;
        },
      });
      await supervisor.start();
      provider = providers.createLlamaCppProvider({ name: "local/bench", supervisor, model: "bench" });
      return { type: "init", startMs: performance.now() - startedMs, childInitPid: supervisor.state().pid };
    }
    case "run": {
      if (!provider || !supervisor) throw new Error("init first");
      const body = {
        model: "bench",
        messages: [{ role: "user", content: command.prompt }],
        max_tokens: command.tokens,
        temperature: 0.8,
        seed: command.seed,
        logit_bias: { [command.eosToken]: -100 },
        stream: true,
        stream_options: { include_usage: true },
      };
      const startMs = performance.now();
      const res = await provider.call("chat/completions", body, {
        signal: new AbortController().signal,
        requestId: `bench-${command.seed}`,
      });
      const figures = await timeSse(res.body, startMs);
      return {
        type: "run",
        figures,
        childTokensPerS: supervisor.state().models[0]?.tokensPerSecond,
        childTtftMs: lastChildTtftMs,
      };
    }
    case "restart": {
      if (!supervisor) throw new Error("init first");
      const before = supervisor.state();
      process.kill(before.pid as number, "SIGKILL");
      const deadline = performance.now() + 30_000;
      for (;;) {
        const state = supervisor.state();
        if (state.restarts > before.restarts && state.lastRecoveryMs !== before.lastRecoveryMs) {
          if (state.lastRecoveryMs !== undefined)
            return { type: "restart", recoveryMs: state.lastRecoveryMs };
        }
        if (performance.now() > deadline) throw new Error("the runner did not recover within 30 s");
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    case "memory": {
      const pid = supervisor?.state().pid;
      return {
        type: "memory",
        workerRssMb: rssMbOf(process.pid) ?? process.memoryUsage().rss / 2 ** 20,
        runnerRssMb: pid === undefined ? undefined : rssMbOf(pid),
        runnerPid: pid,
      };
    }
    case "close":
      await supervisor?.close();
      return { type: "closed" };
  }
}

/** Commands may overlap (a memory sample during a run): each reply carries its command's id. */
process.on("message", ({ id, command }: { id: number; command: WorkerCommand }) => {
  handle(command).then(
    (reply) => process.send?.({ id, reply }),
    (error: unknown) =>
      process.send?.({
        id,
        reply: { type: "error", message: error instanceof Error ? error.message : String(error) },
      }),
  );
});
process.on("disconnect", () => {
  void supervisor?.close().finally(() => process.exit(0));
});
