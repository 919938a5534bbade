import { existsSync } from "node:fs";
import type { Registry } from "prom-client";
import type { GatewayConfig } from "./config/index.js";
import type { Core } from "./core/index.js";
import type { Logger } from "./logger.js";
import { loadManifests, packageModelsDir, TINY_MODEL_SHA256 } from "./models/index.js";
import { createLocalModels, syncLoadedState } from "./models/local-targets.js";
import { ensureTinyModel } from "./models/tiny-model.js";
import type { Target } from "./routing/targets.js";
import { type RunnerSupervisor, registerRunnerMetrics } from "./runner/index.js";

export interface LocalModels {
  supervisor: RunnerSupervisor;
  targets: Target[];
  aliases: Record<string, string>;
}

/**
 * Reads the model manifests and builds the runner and one target per model. A bad manifest is
 * logged and skipped, not fatal: the other models and the cloud still serve. The tiny demo model is
 * written here when its file is missing (an install that skipped scripts), so a fresh gateway always
 * has a local model.
 */
export async function prepareLocalModels(
  config: GatewayConfig,
  logger: Logger,
): Promise<LocalModels | undefined> {
  if (!config.models.enabled) return undefined;
  const dir = config.models.dir ?? packageModelsDir();
  const { manifests, errors } = await loadManifests(dir);
  for (const e of errors)
    logger.error({ manifest: e.manifestPath, key: e.key }, `model manifest skipped: ${e.message}`);
  for (const m of manifests) {
    if (m.sha256 === TINY_MODEL_SHA256 && !existsSync(m.filePath)) {
      await ensureTinyModel(m.filePath);
      logger.info(
        { path: m.filePath },
        "generated the tiny demo model (it writes nonsense; add a real model to models/)",
      );
    }
  }
  if (manifests.length === 0) return undefined;
  const m = config.models;
  return createLocalModels({
    manifests,
    logger,
    gpu: m.gpu,
    loadAtStart: m.loadAtStart,
    queuePerModel: m.queuePerModel,
    firstTokenTimeoutMs: m.firstTokenTimeoutMs,
    totalTimeoutMs: m.totalTimeoutMs,
    ...(m.threads === undefined ? {} : { threads: m.threads }),
    ...(m.memoryBudgetMb === undefined ? {} : { memoryBudgetMb: m.memoryBudgetMb }),
  });
}

/**
 * Starts the runner in the background and keeps the core's view of loaded models and free memory
 * in step; returns a function that stops both.
 */
export function runLocalModels(
  local: LocalModels,
  targets: readonly Target[],
  core: Core,
  registry: Registry,
  logger: Logger,
): () => Promise<void> {
  const unregister = registerRunnerMetrics(registry, local.supervisor);
  const stopSync = syncLoadedState(local.supervisor, targets, {
    setLoaded: (index, loaded) => core.setLoaded(index, loaded),
    setMemoryFreeMb: (mb) => core.setMemoryFreeMb(mb),
  });
  local.supervisor
    .start()
    .catch((error: unknown) => logger.error({ err: error }, "the model runner cannot start"));
  return async () => {
    stopSync();
    unregister();
    await local.supervisor.close();
  };
}
