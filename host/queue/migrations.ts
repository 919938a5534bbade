import type { Database } from "better-sqlite3";

/**
 * Numbered, forward-only schema changes. The database's `user_version` records the last one
 * applied; a gateway never runs a migration twice and never goes back. Append, never edit.
 */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE queue_items (
        id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        idempotency_key TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('chat', 'embeddings', 'mcp_tool_call')),
        target TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        payload BLOB NOT NULL,
        payload_bytes INTEGER NOT NULL,
        priority INTEGER NOT NULL DEFAULT 2,
        status TEXT NOT NULL CHECK (status IN ('queued', 'inflight', 'done', 'failed', 'dead', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at_ms INTEGER NOT NULL,
        lease_owner TEXT,
        lease_expires_at_ms INTEGER,
        result_status INTEGER,
        result_content_type TEXT,
        result_body BLOB,
        last_error TEXT,
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        finished_at_ms INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX queue_items_idempotency ON queue_items (client_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
      CREATE INDEX queue_items_due ON queue_items (status, priority DESC, next_attempt_at_ms);
      CREATE INDEX queue_items_finished ON queue_items (finished_at_ms) WHERE finished_at_ms IS NOT NULL;

      -- The receiving end: answers already given for (client, Idempotency-Key), replayed on repeats.
      CREATE TABLE idempotent_responses (
        client_id TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        status INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        target TEXT,
        body BLOB NOT NULL,
        created_at_ms INTEGER NOT NULL,
        PRIMARY KEY (client_id, idempotency_key)
      ) STRICT;
      CREATE INDEX idempotent_responses_age ON idempotent_responses (created_at_ms);
    `,
  },
  {
    // Claims order by priority, due time, then age: with age in the index no batch of rows that
    // share a due time (a group commit) needs sorting on each claim.
    version: 2,
    sql: `
      DROP INDEX queue_items_due;
      CREATE INDEX queue_items_due ON queue_items (status, priority DESC, next_attempt_at_ms, created_at_ms);
    `,
  },
  {
    // The last tool, resource and prompt lists each MCP upstream gave, served while it is away.
    version: 3,
    sql: `
      CREATE TABLE mcp_catalog (
        upstream TEXT PRIMARY KEY,
        catalog TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    // The MCP task worker's claims and due times seek its own few rows, not every queued LLM
    // request (a backlog of 100k chat items would otherwise be scanned on each enqueue).
    version: 4,
    sql: `
      CREATE INDEX queue_items_mcp_due ON queue_items (status, priority DESC, next_attempt_at_ms, created_at_ms)
        WHERE kind = 'mcp_tool_call';
    `,
  },
];

export function migrate(db: Database): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  if (current > latest) {
    throw new Error(
      `the queue database is at schema version ${current}, newer than this gateway knows (${latest})`,
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return latest;
}
