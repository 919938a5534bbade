import { existsSync, rmSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { GatewayConfig } from "../config/index.js";
import { probeDataDir } from "../data-dir.js";
import { QueueStore } from "../queue/index.js";
import { type CheckResult, errorMessage, fail, ok, warn } from "./types.js";

/**
 * The data directory and the queue database in it. Whatever the check creates it removes again: an
 * operator running the doctor with sudo must not leave root-owned files the service user cannot
 * open. So a missing directory is created and removed, and a missing queue.db is stood in for by
 * a scratch database that goes through the same migrations.
 */
export async function checkDataDirAndQueue(dataDir: string, config: GatewayConfig): Promise<CheckResult[]> {
  const created = await mkdir(dataDir, { recursive: true }).catch(() => undefined);
  try {
    const dir = await checkDataDir(dataDir, created !== undefined);
    return [dir, checkQueue(dataDir, config, dir.status === "ok")];
  } finally {
    if (created !== undefined) await rm(created, { recursive: true, force: true });
  }
}

async function checkDataDir(dir: string, created: boolean): Promise<CheckResult> {
  const status = await probeDataDir(dir);
  if (status.writable) {
    const note = created ? " (missing: created for the check and removed; serve creates it)" : "";
    return ok("data dir", `${dir} takes a durable write (fsync)${note}`);
  }
  return fail(
    "data dir",
    `${dir} does not take a durable write: ${status.reason ?? "unknown reason"}`,
    "point server.dataDir (--data-dir, GATEWAY_DATA_DIR) at a writable directory on persistent storage, or fix its owner and permissions for the gateway's user (a read-only or full filesystem shows here too)",
  );
}

/**
 * Opens the queue database as start-up does (migrating it), runs SQLite's quick_check and reports
 * the counts. Safe while a gateway runs: the queue uses WAL.
 */
function checkQueue(dataDir: string, config: GatewayConfig, dataDirOk: boolean): CheckResult {
  const path = join(dataDir, "queue.db");
  const exists = existsSync(path);
  const openPath = exists ? path : join(dataDir, `.doctor-queue-${process.pid}.db`);
  let store: QueueStore | undefined;
  try {
    store = new QueueStore(openPath, {
      limits: { maxRows: config.queue.maxRows, maxBytes: config.queue.maxBytes },
    });
    const problems = (store.db.pragma("quick_check") as { quick_check: string }[])
      .map((row) => row.quick_check)
      .filter((line) => line !== "ok");
    if (problems.length > 0) {
      return fail(
        "queue",
        `${path} is damaged: ${problems.slice(0, 3).join("; ")}`,
        `stop the gateway, keep a copy of ${path}, then recover it (sqlite3 queue.db .recover | sqlite3 recovered.db) or move it aside to start with an empty queue`,
      );
    }
    if (!exists) return ok("queue", `no ${path} yet (serve creates it); a scratch one opened and migrated`);
    const { byStatus } = store.stats();
    const detail = `${path}: ${byStatus.queued} queued, ${byStatus.inflight} in flight, ${byStatus.dead} dead`;
    const active = byStatus.queued + byStatus.inflight;
    if (active >= config.queue.maxRows * 0.9) {
      return warn(
        "queue",
        `${detail}; ${active} of queue.maxRows ${config.queue.maxRows} undelivered`,
        "let the queue drain to the cloud, or raise queue.maxRows / queue.maxBytes",
      );
    }
    if (byStatus.dead > 0) {
      return warn(
        "queue",
        detail,
        `look at them with edge-gateway queue ls --status dead --data-dir ${dataDir}, then queue retry --all-dead or queue purge --status dead`,
      );
    }
    return ok("queue", `${detail}; integrity ok`);
  } catch (error) {
    const fix = dataDirOk
      ? `check that the gateway's user may write ${path}; if a newer gateway wrote it, run that version, else move it aside to start with an empty queue`
      : "fix the data directory first (see data dir)";
    return fail("queue", `${path} cannot be opened: ${errorMessage(error)}`, fix);
  } finally {
    store?.close();
    if (!exists) for (const suffix of ["", "-wal", "-shm", "-journal"]) removeQuietly(`${openPath}${suffix}`);
  }
}

/** The scratch files may never have been made (ENOENT, or ENOTDIR below a file): nothing to undo. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // nothing to remove
  }
}
