/**
 * How much of the machine other processes took during a phase. The bench runs on shared 2-core boxes
 * where a test suite started by someone else can halve the gateway's figures; the share is printed
 * beside the results so a bad run shows as noisy rather than as a slow gateway. Linux /proc only.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";

/** USER_HZ: /proc reports CPU time in ticks of 1/100 s on every Linux we target. */
const TICKS_PER_S = 100;

export interface CpuSnapshot {
  wallS: number;
  /** CPU seconds every process on the machine spent, idle and iowait excluded. */
  machineBusyS: number;
  /** CPU seconds this process and the listed children spent. */
  ownS: number;
}

function processCpuS(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

export function cpuSnapshot(childPids: readonly (number | undefined)[]): CpuSnapshot | undefined {
  try {
    const ticks = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    const self = process.cpuUsage();
    let ownS = (self.user + self.system) / 1e6;
    for (const pid of childPids) if (pid !== undefined) ownS += processCpuS(pid);
    return { wallS: performance.now() / 1000, machineBusyS: (total - idle) / TICKS_PER_S, ownS };
  } catch {
    return undefined;
  }
}

/** Percent of all cores that processes other than the bench's own were busy between two snapshots. */
export function foreignCpuPct(
  before: CpuSnapshot | undefined,
  after: CpuSnapshot | undefined,
): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  const capacityS = (after.wallS - before.wallS) * availableParallelism();
  const foreignS = after.machineBusyS - before.machineBusyS - (after.ownS - before.ownS);
  return Math.max(0, Math.round((1000 * foreignS) / capacityS) / 10);
}
