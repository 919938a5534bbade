// Judging a crash run from the fake cloud's records and the queue file read after each kill: which
// re-sends happened and why, and whether every committed request was executed exactly once.

import type { IdempotencyLedger } from "../fakes/openai-idempotency.js";
import type { RecordedRequest } from "../fakes/openai-upstream.js";
import type { QueueRow } from "./gateway-child.js";
import { indexOf, type Sent } from "./queue-client.js";

/** The queue file as a kill -9 left it. */
export interface KillSnapshot {
  /** Wall-clock ms of the SIGKILL. */
  atMs: number;
  /**
   * When the next life was spawned: whatever the cloud received before came from a dead process
   * (the fake may note a request that was on the wire at the kill a little after the kill itself).
   */
  restartMs: number;
  rows: Map<string, QueueRow>;
  /** Rows in flight (leased by the dead process) at the kill. */
  inflight: Set<string>;
}

export const keyOf = (r: RecordedRequest): string => String(r.headers["idempotency-key"]);

/**
 * Each row is one request that was sent: the one acknowledged with this id, or one cut off by a
 * kill and never acknowledged. No request has two rows.
 */
export function rowsAreSentRequests(rows: ReadonlyMap<string, QueueRow>, sent: Sent): string[] {
  const problems: string[] = [];
  const seen = new Map<number, string>();
  for (const row of rows.values()) {
    const i = indexOf(row.content);
    const twin = seen.get(i);
    if (twin !== undefined) problems.push(`request ${i} has two rows: ${twin} and ${row.id}`);
    seen.set(i, row.id);
    const acked = sent.acked.get(i);
    if (acked !== undefined && acked !== row.id)
      problems.push(`request ${i}: acknowledged ${acked}, row ${row.id}`);
    if (acked === undefined && !sent.cut.has(i))
      problems.push(`row ${row.id} (${row.content}) was never sent`);
  }
  return problems;
}

export interface ResendReport {
  /** Keys the cloud received more than once. */
  resent: number;
  /** Why each earlier attempt of a re-sent key did not count: the kinds seen. */
  reasons: Record<"cut" | "error" | "kill", number>;
  /** Earlier attempts nothing explains: a re-send of an answer the gateway had safely received. */
  unexplained: string[];
  /** Keys in flight at a kill after the cloud executed them, and never answered by a replay. */
  notReplayed: string[];
}

/**
 * A re-send is allowed only after an interruption: the attempt before it was cut (the cloud dropped
 * it, its life of the cloud closed, the gateway died or gave up), answered with an error, or answered
 * in full to a gateway killed before it stored the answer (its row was in flight at that kill). And
 * each delivery a kill cut off after the cloud executed it must be re-sent and answered by replay.
 */
export function judgeResends(
  records: readonly RecordedRequest[],
  kills: readonly KillSnapshot[],
  cutByClose: ReadonlySet<RecordedRequest>,
): ResendReport {
  const byKey = new Map<string, RecordedRequest[]>();
  for (const r of records) byKey.set(keyOf(r), [...(byKey.get(keyOf(r)) ?? []), r]);
  const report: ResendReport = {
    resent: 0,
    reasons: { cut: 0, error: 0, kill: 0 },
    unexplained: [],
    notReplayed: [],
  };
  for (const [key, list] of byKey) {
    if (list.length > 1) report.resent++;
    for (const [k, r] of list.slice(0, -1).entries()) {
      const next = list[k + 1] as RecordedRequest;
      if (r.outcome === "dropped" || r.outcome === "closed-early" || cutByClose.has(r)) report.reasons.cut++;
      else if (r.idempotency === undefined) report.reasons.error++;
      else if (
        kills.some((kill) => r.atMs < kill.restartMs && kill.atMs < next.atMs && kill.inflight.has(key))
      )
        report.reasons.kill++;
      else
        report.unexplained.push(
          `${key}: attempt ${k + 1} (${r.outcome}, ${r.idempotency}, ${r.atMs}..${r.endedAtMs}) re-sent at ${next.atMs}`,
        );
    }
  }
  for (const kill of kills) {
    for (const key of kill.inflight) {
      const list = byKey.get(key) ?? [];
      const before = list.filter((r) => r.atMs < kill.restartMs).at(-1);
      if (before?.idempotency === undefined) continue;
      if (!list.some((r) => r.atMs > kill.restartMs && r.idempotency === "replayed"))
        report.notReplayed.push(key);
    }
  }
  return report;
}

export interface ExactlyOnce {
  /** Committed items the cloud never executed. */
  lost: string[];
  /** Keys executed more than once, and requests (by content) executed under more than one key. */
  duplicated: string[];
  /** Executions of keys that were never committed. */
  foreign: string[];
}

/** Per Idempotency-Key (the ledger) and per request content (what was executed), exactly once. */
export function exactlyOnce(
  committed: ReadonlyMap<string, QueueRow>,
  ledger: IdempotencyLedger,
  records: readonly RecordedRequest[],
): ExactlyOnce {
  const lost = [...committed.keys()].filter((id) => (ledger.executions.get(id) ?? 0) === 0);
  const duplicated = [...ledger.executions].filter(([, n]) => n > 1).map(([key, n]) => `${key} x${n}`);
  const byContent = new Map<string, string[]>();
  for (const r of records.filter((r) => r.idempotency === "executed")) {
    const content = String(r.body?.messages?.[0]?.content);
    byContent.set(content, [...(byContent.get(content) ?? []), keyOf(r)]);
  }
  for (const [content, keys] of byContent)
    if (keys.length > 1) duplicated.push(`${content}: ${keys.join(", ")}`);
  for (const row of committed.values()) {
    const keys = byContent.get(row.content) ?? [];
    if (keys.length === 1 && keys[0] !== row.id)
      duplicated.push(`${row.content} executed as ${keys[0]}, row ${row.id}`);
  }
  const foreign = [...ledger.executions.keys()].filter((id) => !committed.has(id));
  return { lost, duplicated, foreign };
}
