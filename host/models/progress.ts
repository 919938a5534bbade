import type { HashProgress } from "./hash.js";

export interface ProgressOptions {
  label: string;
  write: (text: string) => void;
  /** A terminal gets one redrawn bar; a log (journald, a pipe) gets a line every 10%. */
  isTTY: boolean;
  now?: () => number;
  /** Width of the bar in characters. */
  width?: number;
}

const REDRAW_INTERVAL_MS = 100;

export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/**
 * A progress reporter for hashing: `update` takes HashProgress, `done` ends the line. On a TTY the
 * bar is redrawn in place at most ten times a second; elsewhere plain lines at each 10% step, so
 * logs stay readable and small.
 */
export function createProgress({ label, write, isTTY, now = Date.now, width = 30 }: ProgressOptions) {
  let lastDrawMs = Number.NEGATIVE_INFINITY;
  let lastStep = -1;
  let drawn = false;
  return {
    update({ doneBytes, totalBytes }: HashProgress): void {
      const fraction = totalBytes === 0 ? 1 : doneBytes / totalBytes;
      const percent = Math.floor(fraction * 100);
      if (!isTTY) {
        const step = Math.floor(percent / 10);
        if (step > lastStep) {
          lastStep = step;
          write(`${label}: ${step * 10}% of ${formatBytes(totalBytes)}\n`);
        }
        return;
      }
      const at = now();
      if (at - lastDrawMs < REDRAW_INTERVAL_MS && doneBytes < totalBytes) return;
      lastDrawMs = at;
      const filled = Math.round(fraction * width);
      const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
      write(
        `\r${label} [${bar}] ${String(percent).padStart(3)}% ${formatBytes(doneBytes)}/${formatBytes(totalBytes)}`,
      );
      drawn = true;
    },
    done(): void {
      if (isTTY && drawn) write("\n");
    },
  };
}
