import { EventEmitter } from "node:events";
import type { Core } from "../core/index.js";
import type { Logger } from "../logger.js";
import type { Provider } from "../providers/types.js";

export interface CloudMonitorOptions {
  provider: Provider;
  core: Core;
  logger: Logger;
  /** Probe period while the cloud is reachable. */
  intervalMs: number;
  /** Probe backoff while unreachable: starts here, doubles up to maxMs. */
  minMs: number;
  maxMs: number;
  /** Consecutive failed real requests (connect error or timeout) that mark the cloud unreachable. */
  passiveFailures: number;
  probeTimeoutMs?: number;
}

/**
 * The gateway's view of the uplink, fed two ways: an active probe (GET /models) on a timer, with
 * backoff while down, and passive observations of real requests. Either can mark the cloud down;
 * any answer marks it up. The core routes with it (setCloudReachable) and `change` events wake the
 * offline queue's sync worker when the link returns.
 */
export class CloudMonitor extends EventEmitter<{ change: [reachable: boolean] }> {
  private reachableNow = true;
  private failuresInRow = 0;
  private backoffMs: number;
  private timer: NodeJS.Timeout | undefined;
  private probing: AbortController | undefined;
  private stopped = true;

  constructor(private readonly opts: CloudMonitorOptions) {
    super();
    this.backoffMs = opts.minMs;
  }

  get reachable(): boolean {
    return this.reachableNow;
  }

  start(): void {
    this.stopped = false;
    void this.probe();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.probing?.abort();
  }

  /** A real request reached the cloud (any HTTP answer). */
  reportSuccess(): void {
    this.failuresInRow = 0;
    this.set(true);
  }

  /** A real request could not reach the cloud (connect error or timeout). */
  reportFailure(): void {
    this.failuresInRow++;
    if (this.failuresInRow < this.opts.passiveFailures || !this.reachableNow) return;
    this.set(false);
    // Probe soon, with backoff, rather than a whole interval later.
    this.schedule(this.nextBackoff());
  }

  /** Runs one probe now and schedules the next. Resolves with the reachability it found. */
  async probe(): Promise<boolean> {
    clearTimeout(this.timer);
    this.probing?.abort();
    const controller = new AbortController();
    this.probing = controller;
    const timeout = setTimeout(() => controller.abort(), this.opts.probeTimeoutMs ?? 3_000);
    let ok: boolean;
    try {
      await this.opts.provider.probe(controller.signal);
      ok = true;
    } catch {
      ok = false;
    } finally {
      clearTimeout(timeout);
    }
    if (controller.signal.aborted && this.stopped) return this.reachableNow;
    if (ok) {
      this.failuresInRow = 0;
      this.backoffMs = this.opts.minMs;
    }
    this.set(ok);
    this.schedule(ok ? this.opts.intervalMs : this.nextBackoff());
    return ok;
  }

  private nextBackoff(): number {
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.opts.maxMs, this.backoffMs * 2);
    return wait;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.probe(), ms);
    this.timer.unref();
  }

  private set(reachable: boolean): void {
    if (reachable === this.reachableNow) return;
    this.reachableNow = reachable;
    this.opts.core.setCloudReachable(reachable);
    this.opts.logger.warn(
      { target: this.opts.provider.name, reachable },
      reachable ? "cloud reachable again" : "cloud unreachable",
    );
    this.emit("change", reachable);
  }
}
