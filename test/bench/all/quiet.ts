/**
 * Waiting for a quiet machine before a run. The bench shares 2 cores with whatever else runs; a test
 * suite started elsewhere halves one side's figures and not another's. This samples how busy the
 * machine is without the bench (idle and iowait excluded, the bench's own CPU time subtracted) over
 * short windows, and returns once a window is under the threshold or the wait is over.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { cpuSnapshot, foreignCpuPct } from "../http/cpu.js";

const WINDOW_MS = 3_000;

/** Percent of the machine other processes used over one window. */
export async function busyPct(): Promise<number | undefined> {
  const before = cpuSnapshot([]);
  await sleep(WINDOW_MS);
  return foreignCpuPct(before, cpuSnapshot([]));
}

export async function waitForQuiet(
  maxWaitS: number,
  thresholdPct: number,
  log: (line: string) => void,
): Promise<{ busyPct: number | undefined; waitedS: number }> {
  const startMs = Date.now();
  let busy = await busyPct();
  while (busy !== undefined && busy > thresholdPct && Date.now() - startMs < maxWaitS * 1000) {
    log(`machine ${busy}% busy with other processes; waiting for under ${thresholdPct}%`);
    busy = await busyPct();
  }
  return { busyPct: busy, waitedS: Math.round((Date.now() - startMs) / 1000) };
}
