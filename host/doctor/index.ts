import { resolve } from "node:path";
import type { GatewayConfig } from "../config/index.js";
import { checkDataDirAndQueue } from "./data.js";
import { checkModels } from "./models.js";
import { checkCloud, checkMcpUpstreams } from "./network.js";
import { checkCore, checkKeys, checkPort } from "./startup.js";
import { checkCpu, checkDisk, checkMemory, checkNode, type SystemFacts, systemFacts } from "./system.js";
import type { CheckResult } from "./types.js";

export { renderJson, renderTable } from "./render.js";
export { MIN_NODE_VERSION, type SystemFacts } from "./system.js";
export type { CheckResult, CheckStatus } from "./types.js";

export interface DoctorOptions {
  /** Verify model files' SHA-256 (`--no-hash` turns it off). */
  hash?: boolean;
  /** Progress bar while hashing; only given on a terminal. */
  progress?: (text: string) => void;
  /** build/core.wasm next to the package when absent. */
  wasmPath?: string;
  /** Deadline of each network check. */
  timeoutMs?: number;
  /** The PATH stdio MCP upstreams inherit. */
  path?: string;
  /** The machine; measured when absent. */
  facts?: SystemFacts;
}

/**
 * Every check, in the order an operator fixes things: the machine, the policy core and keys, the
 * data directory and queue, the models, then the network. A check that throws is reported as a
 * failure of that check, never as a crash of the doctor.
 */
export async function runChecks(config: GatewayConfig, options: DoctorOptions = {}): Promise<CheckResult[]> {
  const facts = options.facts ?? systemFacts();
  const timeoutMs = options.timeoutMs ?? 3_000;
  const dataDir = resolve(config.server.dataDir);
  // The network checks wait on timeouts; start them first so they overlap the local ones.
  const network = Promise.all([
    guard("cloud", () => checkCloud(config, timeoutMs)),
    guard("mcp", () => checkMcpUpstreams(config, { timeoutMs, path: options.path })),
  ]);
  const models = await guard("models", () =>
    checkModels(config, {
      cores: facts.cores,
      hash: options.hash ?? true,
      ...(options.progress === undefined ? {} : { progress: options.progress }),
    }),
  );
  const core = checkCore(config, options.wasmPath);
  const data = await guard("data dir", () => checkDataDirAndQueue(dataDir, config));
  const modelChecks = "results" in models ? models : { results: [models], memoryNeedMb: 0 };
  const results: CheckResult[] = [
    checkNode(facts.nodeVersion),
    checkCpu(facts.arch, facts.cores),
    checkMemory(facts, modelChecks.memoryNeedMb),
    await guard("disk", () => checkDisk(dataDir)),
    core.result,
    checkKeys(config, core.tiers),
    await guard("listen", () => checkPort(config.server.host, config.server.port)),
    ...(Array.isArray(data) ? data : [data]),
    ...modelChecks.results,
  ];
  for (const result of await network) results.push(...(Array.isArray(result) ? result : [result]));
  return results;
}

async function guard<T>(check: string, run: () => Promise<T>): Promise<T | CheckResult> {
  try {
    return await run();
  } catch (error) {
    const detail = `the check itself failed: ${error instanceof Error ? error.message : String(error)}`;
    return {
      check,
      status: "fail",
      detail,
      fix: "correct what the message names, or report it with this output",
    };
  }
}
