import { randomUUID } from "node:crypto";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";

export interface DataDirStatus {
  writable: boolean;
  /** Why not, e.g. `ENOTDIR: not a directory, mkdir '/etc/passwd/data'`. */
  reason?: string;
}

/**
 * Creates `dir` if needed and proves it takes a durable write: create, write, fsync and delete a
 * probe file. Existence and permission bits are not enough: a read-only remount, a full disk or a
 * vanished USB drive only show up when a write is attempted, and the queue needs fsync to work.
 * Each probe has its own name, so concurrent readiness checks do not trip over one another.
 */
export async function probeDataDir(dir: string): Promise<DataDirStatus> {
  const probePath = join(dir, `.write-probe-${process.pid}-${randomUUID()}`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(probePath, "wx");
    try {
      await handle.writeFile("probe\n");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rm(probePath);
    return { writable: true };
  } catch (error) {
    await rm(probePath, { force: true }).catch(() => undefined);
    return { writable: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
