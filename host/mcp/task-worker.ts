import { randomBytes } from "node:crypto";
import { ProtocolError } from "@modelcontextprotocol/client";
import { type Core, RetryClass } from "../core/index.js";
import type { QueueItem } from "../queue/index.js";
import { LaneWorker, type LaneWorkerOptions } from "../queue/lane-worker.js";
import type { McpMetrics } from "./metrics.js";
import { IDEMPOTENCY_META_KEY, payloadOf } from "./tasks.js";
import { neverReached, type Upstream } from "./upstream.js";

export interface TaskWorkerOptions extends LaneWorkerOptions {
  core: Core;
  metrics: McpMetrics;
  upstreams: ReadonlyMap<string, Upstream>;
}

/**
 * Delivers queued MCP tool calls (the queue's `mcp` lane) once their upstream is back. Every
 * delivery of one task carries the same idempotency key in `_meta`; the upstream's result is
 * stored as it came and served by `tasks/get`. A JSON-RPC error from the upstream fails the task;
 * an unreachable upstream is not an attempt; anything else is retried on the core's schedule.
 */
export class TaskWorker extends LaneWorker {
  readonly owner = `m_${randomBytes(8).toString("hex")}`;

  constructor(private readonly o: TaskWorkerOptions) {
    super("mcp", "mcp task", o);
  }

  start(): void {
    for (const u of this.o.upstreams.values()) u.on("status", this.onStatus);
    this.startPumping();
  }

  async stop(): Promise<void> {
    for (const u of this.o.upstreams.values()) u.off("status", this.onStatus);
    await this.stopPumping();
  }

  private readonly onStatus = (status: string): void => {
    if (status === "up") this.wake();
  };

  protected async deliver(item: QueueItem): Promise<void> {
    const { store, core, metrics, logger } = this.o;
    const payload = payloadOf(item);
    const upstream = this.o.upstreams.get(payload.upstream);
    if (!upstream) {
      store.finish(
        item.id,
        this.owner,
        "failed",
        undefined,
        `upstream '${payload.upstream}' is not configured`,
      );
      metrics.tasks.inc({ upstream: payload.upstream, outcome: "failed" });
      return;
    }
    if (!upstream.up) {
      // Not an attempt: the upstream's return wakes the worker.
      store.release(item.id, this.owner, this.now() + this.o.pollMs);
      return;
    }
    const abort = new AbortController();
    this.aborts.add(abort);
    try {
      const result = await upstream.callTool(
        {
          name: payload.name,
          ...(payload.arguments === undefined ? {} : { arguments: payload.arguments }),
          _meta: { [IDEMPOTENCY_META_KEY]: item.id },
        },
        { signal: abort.signal },
      );
      const body = Buffer.from(JSON.stringify(result));
      if (store.finish(item.id, this.owner, "done", { status: 200, contentType: "application/json", body })) {
        metrics.tasks.inc({ upstream: payload.upstream, outcome: "delivered" });
        logger.info({ id: item.id, upstream: payload.upstream, tool: payload.name }, "mcp task delivered");
      }
    } catch (error) {
      if (!this.running && abort.signal.aborted) {
        store.release(item.id, this.owner, this.now());
      } else if (neverReached(error)) {
        store.release(item.id, this.owner, this.now() + core.retryDelayMs(Math.max(1, item.attempts), 0));
      } else if (error instanceof ProtocolError) {
        const body = Buffer.from(
          JSON.stringify({
            error: {
              code: error.code,
              message: error.message,
              ...(error.data === undefined ? {} : { data: error.data }),
            },
          }),
        );
        store.finish(
          item.id,
          this.owner,
          "failed",
          { status: 200, contentType: "application/json", body },
          error.message,
        );
        metrics.tasks.inc({ upstream: payload.upstream, outcome: "failed" });
      } else {
        const message = error instanceof Error ? error.message : String(error);
        if (core.retryClassify(0, item.attempts) === RetryClass.Dead) {
          store.finish(item.id, this.owner, "dead", undefined, message);
          metrics.tasks.inc({ upstream: payload.upstream, outcome: "dead" });
          logger.error(
            { id: item.id, attempts: item.attempts, err: message },
            "mcp task: attempts exhausted",
          );
        } else {
          store.reschedule(item.id, this.owner, this.now() + core.retryDelayMs(item.attempts, 0), message);
          metrics.tasks.inc({ upstream: payload.upstream, outcome: "retry" });
        }
      }
    } finally {
      this.aborts.delete(abort);
    }
  }
}
