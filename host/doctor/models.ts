import { stat } from "node:fs/promises";
import { relative } from "node:path";
import type { GatewayConfig } from "../config/index.js";
import {
  checkGguf,
  createProgress,
  formatBytes,
  type GgufProblem,
  type LoadedManifest,
  loadManifests,
  packageModelsDir,
  TINY_MODEL_SHA256,
} from "../models/index.js";
import { runnerModelSpecs } from "../models/local-targets.js";
import { defaultMemoryBudgetMb } from "../runner/options.js";
import { type CheckResult, errorMessage, fail, ok, warn } from "./types.js";

export interface ModelChecksOptions {
  cores: number;
  /** Verify each file's SHA-256 against its manifest (the slow part: it reads every byte). */
  hash: boolean;
  /** Where a redrawn progress bar goes while hashing; none when absent (not a terminal). */
  progress?: (text: string) => void;
}

export interface ModelChecks {
  results: CheckResult[];
  /** MiB the models loaded at start need (at least the largest one, which must fit to load). */
  memoryNeedMb: number;
}

/** Reads the manifests as start-up does and checks each model's file and settings. */
export async function checkModels(config: GatewayConfig, options: ModelChecksOptions): Promise<ModelChecks> {
  if (!config.models.enabled) {
    return { results: [ok("models", "disabled (models.enabled: false)")], memoryNeedMb: 0 };
  }
  const dir = config.models.dir ?? packageModelsDir();
  const { manifests, errors } = await loadManifests(dir);
  const results: CheckResult[] = errors.map((e) =>
    e.manifestPath === dir
      ? fail(
          "models",
          `${dir}: ${e.message}`,
          "create the directory, point models.dir (GATEWAY_MODELS_DIR) at the one holding the manifests, or set models.enabled: false",
        )
      : fail(
          `manifest ${relative(dir, e.manifestPath) || e.manifestPath}`,
          `${e.key === undefined ? "" : `${e.key}: `}${e.message}; the gateway skips it`,
          "correct the manifest (every field is in models/README.md) or remove it",
        ),
  );
  if (manifests.length === 0 && errors.length === 0) {
    results.push(ok("models", `no manifests in ${dir}: no local models`));
  }
  const budgetMb = config.models.memoryBudgetMb ?? defaultMemoryBudgetMb();
  for (const manifest of manifests) {
    results.push(await checkModelFile(manifest, options));
    results.push(checkModelSettings(manifest, config, options.cores, budgetMb));
  }
  return { results, memoryNeedMb: memoryNeedMb(manifests, config, budgetMb) };
}

function memoryNeedMb(manifests: readonly LoadedManifest[], config: GatewayConfig, budgetMb: number): number {
  const specs = runnerModelSpecs(manifests, {
    loadAtStart: config.models.loadAtStart,
    memoryBudgetMb: budgetMb,
  });
  const atStart = specs.filter((s) => s.loadAtStart).reduce((sum, s) => sum + s.memoryMb, 0);
  return Math.max(atStart, ...specs.map((s) => s.memoryMb), 0);
}

const problemsText = (problems: readonly GgufProblem[]) => problems.map((p) => p.message).join("; ");

async function checkModelFile(m: LoadedManifest, options: ModelChecksOptions): Promise<CheckResult> {
  const name = `model ${m.id}`;
  const size = await stat(m.filePath).then(
    (info) => info.size,
    (error: NodeJS.ErrnoException) => error,
  );
  if (typeof size !== "number") {
    if (size.code === "ENOENT" && m.sha256 === TINY_MODEL_SHA256) {
      return warn(
        name,
        `${m.filePath} is missing; serve writes the tiny demo model again`,
        "npm run models:tiny",
      );
    }
    return fail(
      name,
      `${m.filePath} ${size.code === "ENOENT" ? "not found" : `cannot be read (${size.code})`}`,
      `put the GGUF file at ${m.filePath}, or correct "file:" in ${m.manifestPath}, or remove the model with edge-gateway models rm ${m.id}`,
    );
  }
  const hash = options.hash && m.sha256 !== undefined;
  const write = options.progress;
  const progress =
    write && hash ? createProgress({ label: `hashing ${m.id}`, write, isTTY: true }) : undefined;
  let check: Awaited<ReturnType<typeof checkGguf>>;
  try {
    check = await checkGguf(m.filePath, {
      ...(m.sizeBytes === undefined ? {} : { expectedSizeBytes: m.sizeBytes }),
      ...(hash ? { expectedSha256: m.sha256 } : {}),
      ...(progress === undefined ? {} : { onProgress: progress.update }),
    });
  } catch (error) {
    return fail(name, `${m.filePath} cannot be read: ${errorMessage(error)}`, "check the file's permissions");
  } finally {
    progress?.done();
  }
  const errors = check.problems.filter((p) => p.severity === "error");
  if (errors.length > 0) {
    const damaged = errors.some((p) => p.code === "sha256-mismatch" || p.code === "size-mismatch");
    return fail(
      name,
      problemsText(errors),
      damaged
        ? `the file is damaged or a different build: download it again, or accept it with edge-gateway models add ${m.filePath} --id ${m.id} --force`
        : "llama.cpp cannot load this file: use a GGUF converted by a current llama.cpp (models/README.md lists tested ones)",
    );
  }
  const sha =
    m.sha256 === undefined
      ? "no sha256 in the manifest"
      : hash
        ? "sha256 ok"
        : "sha256 not checked (--no-hash)";
  const detail = `${formatBytes(size)}, header ok, ${sha}`;
  if (check.problems.length > 0) {
    return warn(
      name,
      `${detail}; ${problemsText(check.problems)}`,
      "the model loads but may answer badly: prefer a GGUF converted by a current llama.cpp",
    );
  }
  return ok(name, detail);
}

function checkModelSettings(
  m: LoadedManifest,
  config: GatewayConfig,
  cores: number,
  budgetMb: number,
): CheckResult {
  const name = `model ${m.id} settings`;
  const threads = config.models.threads ?? m.threads;
  const details: string[] = [];
  const fixes: string[] = [];
  if (threads > cores) {
    details.push(`${threads} threads on ${cores} cores`);
    fixes.push(
      config.models.threads === undefined
        ? `set threads: ${cores} (or fewer) in ${m.manifestPath}`
        : `set models.threads to ${cores} or fewer`,
    );
  }
  if (m.memoryMb > budgetMb) {
    details.push(
      `needs ${m.memoryMb} MiB, more than the ${budgetMb} MiB memory budget: the runner refuses it`,
    );
    fixes.push(
      "raise models.memoryBudgetMb if the machine has the memory, or lower contextSize / sequences in the manifest",
    );
  }
  const summary = `${threads} thread${threads === 1 ? "" : "s"} of ${cores} cores, ~${m.memoryMb} MiB of a ${budgetMb} MiB budget`;
  if (details.length === 0) return ok(name, summary);
  return warn(name, details.join("; "), fixes.join("; "));
}
