import { statfs } from "node:fs/promises";
import { arch, availableParallelism, freemem, totalmem } from "node:os";
import { dirname, resolve } from "node:path";
import { formatBytes } from "../cli-format.js";
import { type CheckResult, errorMessage, fail, ok, warn } from "./types.js";

/** package.json `engines.node`; a test keeps the two in step. */
export const MIN_NODE_VERSION = "20.18.1";
/** Besides the models: the gateway, its SQLite cache and the runner process itself. */
export const MEMORY_MARGIN_MB = 256;
export const DISK_WARN_BYTES = 1024 ** 3;
export const DISK_FAIL_BYTES = 100 * 1024 ** 2;

export interface SystemFacts {
  /** Without the leading `v`, e.g. `20.18.1`. */
  nodeVersion: string;
  /** `process.arch`: `arm64`, `x64`, `arm`, … */
  arch: string;
  cores: number;
  totalMemoryBytes: number;
  /** What a new allocation can get: cgroup limits included where Node knows them. */
  availableMemoryBytes: number;
}

export function systemFacts(): SystemFacts {
  // process.availableMemory (Node >= 20.13) honours a container's memory limit; freemem does not.
  const available = (process as { availableMemory?: () => number }).availableMemory?.() ?? freemem();
  return {
    nodeVersion: process.versions.node,
    arch: arch(),
    cores: availableParallelism(),
    totalMemoryBytes: totalmem(),
    availableMemoryBytes: Math.min(available, totalmem()),
  };
}

function versionParts(version: string): number[] {
  return version
    .replace(/^v/, "")
    .split(/[.-]/)
    .slice(0, 3)
    .map((part) => Number.parseInt(part, 10) || 0);
}

export function compareVersions(a: string, b: string): number {
  const [x, y] = [versionParts(a), versionParts(b)];
  for (let i = 0; i < 3; i++) {
    const diff = (x[i] ?? 0) - (y[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

export function checkNode(version: string): CheckResult {
  const detail = `v${version} (needs >= ${MIN_NODE_VERSION})`;
  if (compareVersions(version, MIN_NODE_VERSION) >= 0) return ok("node", detail);
  return fail(
    "node",
    detail,
    `install Node.js ${MIN_NODE_VERSION} or newer (the current LTS is recommended), e.g. from nodejs.org or NodeSource`,
  );
}

export function checkCpu(cpuArch: string, cores: number): CheckResult {
  const detail = `${cpuArch}, ${cores} core${cores === 1 ? "" : "s"}`;
  if (cpuArch === "arm64" || cpuArch === "x64") return ok("cpu", detail);
  if (cpuArch === "arm") {
    return warn(
      "cpu",
      `${detail}: 32-bit ARM (armv7) has no prebuilt llama.cpp runner and is untested`,
      "install a 64-bit OS (e.g. Raspberry Pi OS 64-bit); until then set models.enabled: false and serve through the cloud or a local model server",
    );
  }
  return warn(
    "cpu",
    `${detail}: only arm64 and x64 are supported`,
    "run the gateway on an arm64 or x86-64 machine; other architectures may lack the llama.cpp and SQLite binaries",
  );
}

/** `needMb`: what the configured models are estimated to take once loaded (0 without models). */
export function checkMemory(facts: SystemFacts, needMb: number): CheckResult {
  const { availableMemoryBytes: available, totalMemoryBytes: total } = facts;
  const models = needMb > 0 ? `; models need ~${needMb} MiB + ${MEMORY_MARGIN_MB} MiB margin` : "";
  const detail = `${formatBytes(available)} available of ${formatBytes(total)}${models}`;
  const needBytes = (needMb + MEMORY_MARGIN_MB) * 1024 * 1024;
  if (available >= needBytes) return ok("memory", detail);
  const fix =
    needMb > 0
      ? "free memory (stop other services), or make the models smaller: a smaller quantisation, a lower contextSize or sequences in their manifests, a lower models.memoryBudgetMb, or models.loadAtStart: none"
      : "free memory: stop other services on this machine or give its container more memory";
  return warn("memory", detail, fix);
}

/** The filesystem of `dir`, or of its nearest existing parent when it does not exist yet. */
export async function checkDisk(dir: string): Promise<CheckResult> {
  let at = resolve(dir);
  for (;;) {
    try {
      const fs = await statfs(at);
      const freeBytes = fs.bavail * fs.bsize;
      const detail = `${formatBytes(freeBytes)} free on the filesystem of ${at}`;
      const fix =
        "free space on that filesystem or move server.dataDir (--data-dir, GATEWAY_DATA_DIR) to a larger one; `edge-gateway queue purge` drops finished queue items";
      if (freeBytes < DISK_FAIL_BYTES) return fail("disk", detail, fix);
      if (freeBytes < DISK_WARN_BYTES) return warn("disk", detail, fix);
      return ok("disk", detail);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = dirname(at);
      if ((code === "ENOENT" || code === "ENOTDIR") && parent !== at) {
        at = parent;
        continue;
      }
      return warn(
        "disk",
        `free space unknown: ${errorMessage(error)}`,
        "check that server.dataDir is a local path",
      );
    }
  }
}
