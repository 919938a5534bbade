/**
 * A process's resident memory from /proc/PID/status (Linux only). VmHWM is the kernel's own
 * high-water mark of VmRSS, so the peak needs no sampling loop: reading another process's status
 * takes its memory lock, and polling it under load would disturb what is measured.
 */
import { readFileSync } from "node:fs";

export interface ProcessMemory {
  /** Resident set now (VmRSS), MB. */
  rssMb: number;
  /** Highest resident set since the process started (VmHWM), MB. */
  peakRssMb: number;
}

const MB_PER_KB = 1 / 1024;

export function processMemory(pid: number | undefined): ProcessMemory | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]);
    const rssKb = kb("VmRSS");
    const peakKb = kb("VmHWM");
    if (!Number.isFinite(rssKb) || !Number.isFinite(peakKb)) return undefined;
    return { rssMb: Math.round(rssKb * MB_PER_KB), peakRssMb: Math.round(peakKb * MB_PER_KB) };
  } catch {
    return undefined;
  }
}
