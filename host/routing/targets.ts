import type { GatewayConfig } from "../config/index.js";
import { CAPABILITIES, type Capability, TASK_CLASSES } from "../config/targets.js";
import { TargetKind, type TargetSpec } from "../core/index.js";
import { createOpenAICompatibleProvider } from "../providers/openai-compatible/index.js";
import type { Endpoint, Provider } from "../providers/types.js";

/** A target as the router sees it: the core's index, the name clients see, and its provider. */
export interface Target {
  index: number;
  /** `local/<name>` or `cloud/<name>`: the model id in /v1/models and the x-edge-target header. */
  id: string;
  kind: "local" | "cloud";
  provider: Provider;
  /** Model name sent upstream per endpoint. */
  models: Readonly<Partial<Record<Endpoint, string>>>;
  spec: TargetSpec;
}

export type ProviderFactory = typeof createOpenAICompatibleProvider;

function capabilityMask(names: readonly Capability[]): number {
  return names.reduce((mask, n) => mask | CAPABILITIES[n], 0);
}

function taskMask(names: readonly (typeof TASK_CLASSES)[number][]): number {
  return names.reduce((mask, n) => mask | (1 << TASK_CLASSES.indexOf(n)), 0);
}

/**
 * Builds the target table from configuration: local HTTP model servers first, then the cloud. The
 * order is the core's target numbering.
 */
export function buildTargets(
  config: GatewayConfig,
  createProvider: ProviderFactory = createOpenAICompatibleProvider,
): Target[] {
  const targets: Target[] = [];
  for (const t of config.local.targets) {
    const model = t.model ?? t.name;
    const endpoints: Endpoint[] = t.capabilities.includes("embeddings")
      ? ["chat/completions", "embeddings"]
      : ["chat/completions"];
    targets.push({
      index: targets.length,
      id: `local/${t.name}`,
      kind: "local",
      provider: createProvider({
        name: `local/${t.name}`,
        kind: "local",
        baseUrl: t.url,
        apiKey: t.apiKey,
        endpoints,
        connectTimeoutMs: t.connectTimeoutMs,
        headersTimeoutMs: t.firstByteTimeoutMs,
        totalTimeoutMs: t.totalTimeoutMs,
      }),
      models: { "chat/completions": model, embeddings: model },
      spec: {
        kind: TargetKind.Local,
        contextTokens: t.contextTokens,
        capabilities: capabilityMask(t.capabilities),
        taskMask: taskMask(t.taskClasses),
        memoryMb: 0,
        maxInflight: t.maxInflight,
        // A model server manages its own loading; to the router it is always ready.
        loaded: true,
      },
    });
  }
  const cloud = config.cloud;
  if (cloud.url !== undefined) {
    const endpoints: Endpoint[] = cloud.capabilities.includes("embeddings")
      ? ["chat/completions", "embeddings"]
      : ["chat/completions"];
    targets.push({
      index: targets.length,
      id: `cloud/${cloud.name}`,
      kind: "cloud",
      provider: createProvider({
        name: `cloud/${cloud.name}`,
        kind: "cloud",
        baseUrl: cloud.url,
        apiKey: cloud.apiKey,
        endpoints,
        connectTimeoutMs: cloud.connectTimeoutMs,
        headersTimeoutMs: cloud.firstByteTimeoutMs,
        totalTimeoutMs: cloud.totalTimeoutMs,
      }),
      models: { "chat/completions": cloud.model, embeddings: cloud.embeddingModel },
      spec: {
        kind: TargetKind.Cloud,
        contextTokens: cloud.contextTokens,
        capabilities: capabilityMask(cloud.capabilities),
        taskMask: taskMask([...TASK_CLASSES]),
        memoryMb: 0,
        maxInflight: cloud.maxInflight,
      },
    });
  }
  return targets;
}
