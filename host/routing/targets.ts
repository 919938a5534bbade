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

/** What an OpenAI-compatible HTTP target (a local model server or the cloud) needs from config. */
interface HttpTargetConfig {
  url: string;
  apiKey?: string | undefined;
  contextTokens: number;
  maxInflight: number;
  capabilities: readonly Capability[];
  taskClasses: readonly (typeof TASK_CLASSES)[number][];
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  totalTimeoutMs: number;
}

function httpTarget(
  index: number,
  id: string,
  kind: "local" | "cloud",
  t: HttpTargetConfig,
  models: Target["models"],
  createProvider: ProviderFactory,
): Target {
  const endpoints: Endpoint[] = t.capabilities.includes("embeddings")
    ? ["chat/completions", "embeddings"]
    : ["chat/completions"];
  return {
    index,
    id,
    kind,
    provider: createProvider({
      name: id,
      kind,
      baseUrl: t.url,
      apiKey: t.apiKey,
      endpoints,
      connectTimeoutMs: t.connectTimeoutMs,
      headersTimeoutMs: t.firstByteTimeoutMs,
      totalTimeoutMs: t.totalTimeoutMs,
    }),
    models,
    spec: {
      kind: kind === "local" ? TargetKind.Local : TargetKind.Cloud,
      contextTokens: t.contextTokens,
      capabilities: capabilityMask(t.capabilities),
      taskMask: taskMask(t.taskClasses),
      memoryMb: 0,
      maxInflight: t.maxInflight,
      // A model server manages its own loading; to the router it is always ready.
      loaded: true,
    },
  };
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
    targets.push(
      httpTarget(
        targets.length,
        `local/${t.name}`,
        "local",
        t,
        { "chat/completions": model, embeddings: model },
        createProvider,
      ),
    );
  }
  const cloud = config.cloud;
  if (cloud.url !== undefined) {
    const models = { "chat/completions": cloud.model, embeddings: cloud.embeddingModel };
    targets.push(
      httpTarget(
        targets.length,
        `cloud/${cloud.name}`,
        "cloud",
        { ...cloud, url: cloud.url, taskClasses: TASK_CLASSES },
        models,
        createProvider,
      ),
    );
  }
  return targets;
}
