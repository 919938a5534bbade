/**
 * The full path: a real gateway process (dist/host/cli.js serve, no configuration) serving the local
 * model over HTTP, measured like the other sides. Used only once host/main.ts wires the runner.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { request } from "undici";
import { type Child, REPO_ROOT, startGateway } from "../http/processes.js";
import { type RunFigures, timeSse } from "./measure.js";
import { rssMbOf } from "./runner-worker.js";

export interface HttpSide {
  model: string;
  run(prompt: string, tokens: number, seed: number, eosToken: number): Promise<RunFigures>;
  memory(): { gatewayRssMb: number | undefined; runnerRssMb: number | undefined };
  stop(): Promise<void>;
}

/** True when the gateway's start-up code creates the model runner. */
export function gatewayWiresRunner(): boolean {
  const main = readFileSync(join(REPO_ROOT, "host/main.ts"), "utf8");
  return main.includes("RunnerSupervisor") || main.includes("createLocalModelTargets");
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Starts the gateway with no configuration but a scratch data directory, rate limits off, and
 * `extraEnv` (e.g. the variable that sets the local models' thread count to the bench's).
 */
export async function openHttp(
  mode: "dist" | "tsx",
  dataDir: string,
  extraEnv: Record<string, string>,
): Promise<HttpSide> {
  const { child, origin } = await startGateway({
    mode,
    env: {
      GATEWAY_LOG_LEVEL: "warn",
      GATEWAY_DATA_DIR: dataDir,
      GATEWAY_CORE__LIMITER__TIERS__DEFAULT__REQUESTS_PER_MINUTE: "0",
      GATEWAY_CORE__LIMITER__TIERS__DEFAULT__TOKENS_PER_MINUTE: "0",
      ...extraEnv,
    },
  });
  const models = await request(`${origin}/v1/models`);
  const list = (await models.body.json()) as { data?: { id: string }[] };
  const model = list.data?.map((m) => m.id).find((id) => id.startsWith("local/"));
  if (!model) {
    await child.stop();
    throw new Error(`the gateway lists no local model: ${JSON.stringify(list)}`);
  }
  return {
    model,
    async run(prompt, tokens, seed, eosToken) {
      const startMs = performance.now();
      const res = await request(`${origin}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-edge-route": "local" },
        body: JSON.stringify({
          model,
          messages: [{ role: "user", content: prompt }],
          max_tokens: tokens,
          temperature: 0.8,
          seed,
          logit_bias: { [eosToken]: -100 },
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
      if (res.statusCode !== 200)
        throw new Error(`gateway answered ${res.statusCode}: ${await res.body.text()}`);
      return timeSse(res.body, startMs);
    },
    memory() {
      const pid = child.process.pid as number;
      const runner = childPids(pid)[0];
      return { gatewayRssMb: rssMbOf(pid), runnerRssMb: runner === undefined ? undefined : rssMbOf(runner) };
    },
    stop: () => stopGateway(child),
  };
}

async function stopGateway(child: Child): Promise<void> {
  await child.stop();
}
