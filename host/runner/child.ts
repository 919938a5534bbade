/**
 * Entry of the model runner child process, forked by RunnerSupervisor with an IPC channel. llama.cpp
 * lives here and never in the gateway: a malformed model can abort this process (exit 134, which no
 * try/catch stops), and exiting is the only way to be sure a model's memory is returned.
 *
 * argv[2] is the JSON of ChildOptions. The child exits when the gateway disconnects.
 */
import { performance } from "node:perf_hooks";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { ChildEngine } from "./child-engine.js";
import type { ChildMessage, ParentMessage } from "./protocol.js";

export interface ChildOptions {
  /** false: CPU only. "auto": the best GPU the prebuilt binaries support. */
  gpu: false | "auto";
  /** Upper bound of threads across all models; each context sets its own count. */
  maxThreads: number;
}

const LOG_LEVELS: Partial<Record<LlamaLogLevel, "debug" | "info" | "warn" | "error">> = {
  [LlamaLogLevel.fatal]: "error",
  [LlamaLogLevel.error]: "error",
  [LlamaLogLevel.warn]: "warn",
  [LlamaLogLevel.info]: "info",
};

function send(message: ChildMessage): void {
  // A message after the gateway went away has nowhere to go; the disconnect handler exits.
  if (process.connected) process.send?.(message);
}

async function main(options: ChildOptions): Promise<void> {
  const startedMs = performance.now();
  let engine: ChildEngine;
  try {
    const llama = await getLlama({
      gpu: options.gpu,
      // Prebuilt binaries only: a device must never compile llama.cpp or fetch anything at run time.
      build: "never",
      skipDownload: true,
      usePrebuiltBinaries: true,
      progressLogs: false,
      maxThreads: options.maxThreads,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => {
        const mapped = LOG_LEVELS[level];
        if (mapped && message.trim() !== "") send({ type: "log", level: mapped, message: message.trim() });
      },
    });
    engine = new ChildEngine(llama, send);
    send({
      type: "ready",
      pid: process.pid,
      gpu: llama.gpu,
      cpuMathCores: llama.cpuMathCores,
      initMs: performance.now() - startedMs,
    });
  } catch (error) {
    send({ type: "fatal", message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }

  process.on("message", (message: ParentMessage) => {
    switch (message.type) {
      case "generate":
        void engine.generate(message.id, message.modelId, message.request);
        break;
      case "abort":
        engine.abort(message.id);
        break;
      case "load":
        void engine.load(message.id, message.spec);
        break;
      case "unload":
        void engine.unload(message.id, message.modelId);
        break;
      case "stats":
        send({ type: "stats", id: message.id, ...engine.stats() });
        break;
    }
  });
}

if (!process.send) {
  process.stderr.write("host/runner/child is started by the gateway's RunnerSupervisor, not by hand\n");
  process.exit(2);
}
// Orphaned children must not hold a model's memory: the gateway going away ends the runner.
process.on("disconnect", () => process.exit(0));
// getLlama forks node-llama-cpp's own binary test (plain JS), which would inherit our loader flags:
// under tsx that doubles the start-up time, and a restart must be quick.
process.execArgv = [];
await main(JSON.parse(process.argv[2] ?? "{}") as ChildOptions);
