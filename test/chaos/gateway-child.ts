import Database from "better-sqlite3";
import { type CliProcess, spawnCli } from "../e2e/cli-process.js";
import { freePort } from "../support/free-port.js";

export interface QueueRow {
  id: string;
  status: string;
  attempts: number;
  /** The user message the row carries: which request it is. */
  content: string;
}

/** Starts `edge-gateway serve` and resolves once it logs that it listens. */
export async function startChild(env: Record<string, string>, timeoutMs = 20_000): Promise<CliProcess> {
  const cli = spawnCli(["serve"], env);
  await cli.waitForLine((line) => line.msg === "listening", timeoutMs);
  return cli;
}

/** kill -9: no handler runs, nothing is flushed or closed. */
export async function killHard(cli: CliProcess): Promise<void> {
  cli.child.kill("SIGKILL");
  const how = await cli.exited(10_000);
  if (how !== "SIGKILL") throw new Error(`expected death by SIGKILL, got ${how}`);
}

/** Stops with SIGTERM if it still runs; for cleanup after a failed assertion. */
export async function stopChild(cli: CliProcess | undefined): Promise<void> {
  if (cli === undefined || cli.child.exitCode !== null || cli.child.signalCode !== null) return;
  cli.child.kill("SIGKILL");
  await cli.exited(10_000);
}

/**
 * Every row of the queue file, read-only, so the next gateway still recovers the WAL itself. The
 * gateway that wrote it must be dead or stopped.
 */
export function readQueue(path: string): Map<string, QueueRow> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT id, status, attempts, payload FROM queue_items").all() as {
      id: string;
      status: string;
      attempts: number;
      payload: Buffer;
    }[];
    return new Map(
      rows.map((r) => {
        const body = JSON.parse(r.payload.toString("utf8")) as { messages: { content: string }[] };
        return [
          r.id,
          { id: r.id, status: r.status, attempts: r.attempts, content: body.messages[0]?.content ?? "" },
        ];
      }),
    );
  } finally {
    db.close();
  }
}

/** Resolves with `promise`, or rejects naming `what` after `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export { freePort };
