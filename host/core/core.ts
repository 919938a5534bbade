import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { instantiateSync } from "@assemblyscript/loader";
import { AllowResult, Circuit, Decision, Reason, RetryClass, Ticket } from "./codes.js";
import type { CoreConfig } from "./config.js";
import { applyConfig, applyTargets, type TargetSpec } from "./configure.js";
import type { CoreExports } from "./exports.js";
import { CoreStats } from "./stats.js";

/** build/core.wasm, found from both host/core (tsx) and dist/host/core (compiled). */
export function defaultWasmPath(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const root = here.includes("/dist/")
    ? new URL("../../../", import.meta.url)
    : new URL("../../", import.meta.url);
  return fileURLToPath(new URL("build/core.wasm", root));
}

export interface RouteRequest {
  promptTokens: number;
  maxTokens: number;
  taskClass: number;
  /** 0 (background) .. 3 (interactive). */
  priority: number;
  /** RouteFlag bits. */
  flags: number;
  /** Capability bits the target must offer. */
  capabilities: number;
}

export interface RouteResult {
  decision: Decision;
  reason: Reason;
  /** Target indices best first; the first is the one to try. Empty for Queue and Reject. */
  candidates: number[];
}

export interface CoreOptions {
  wasmPath?: string;
  /** Called after a trap, once the module has been re-instantiated. */
  onTrap?: (op: string, error: unknown) => void;
}

/**
 * The WASM policy core behind a typed surface. Every call goes to the module's raw exports; the
 * loader's demangled wrappers spread their arguments into an array, which costs more than the call.
 *
 * A trap (a bug in the core, never a bad argument: those return codes) re-instantiates the module
 * from the compiled code and replays the configuration and the host-owned target state. Client
 * buckets and health statistics start over. Meanwhile each decision fails in the stated direction:
 * allow -> open (admitted), settle -> dropped, route -> retried once on the new instance, then
 * closed (Reject with Reason.CoreFault), targetStart -> open (Normal ticket), targetEnd -> dropped,
 * retryDelayMs -> the cap (the longest wait), retryClassify -> Retry (keeps the work).
 */
export class Core {
  readonly stats = new CoreStats();
  private x: CoreExports;
  private readonly tierIndex: Map<string, number>;
  private targets: TargetSpec[] = [];
  private cloudReachable = true;
  private memoryFreeMb = 1e15;

  private constructor(
    private readonly module: WebAssembly.Module,
    private readonly config: CoreConfig,
    private readonly seed: readonly [number, number],
    private readonly onTrap: CoreOptions["onTrap"],
  ) {
    this.tierIndex = new Map(Object.keys(config.limiter.tiers).map((name, i) => [name, i]));
    this.x = this.instantiate();
  }

  static load(config: CoreConfig, opts: CoreOptions = {}): Core {
    const bytes = readFileSync(opts.wasmPath ?? defaultWasmPath());
    return Core.fromModule(new WebAssembly.Module(bytes), config, opts);
  }

  static fromModule(module: WebAssembly.Module, config: CoreConfig, opts: CoreOptions = {}): Core {
    const seed: [number, number] = [config.seed ?? randomInt(2 ** 32 - 1), randomInt(2 ** 32 - 1)];
    if (config.seed !== undefined) seed[1] = 0;
    return new Core(module, config, seed, opts.onTrap);
  }

  private instantiate(): CoreExports {
    const x = instantiateSync(this.module).instance.exports as unknown as CoreExports;
    applyConfig(x, this.config, this.seed);
    applyTargets(x, this.targets);
    x.setCloudReachable(this.cloudReachable ? 1 : 0);
    x.setMemoryFreeMb(this.memoryFreeMb);
    return x;
  }

  private recover(op: string, error: unknown): void {
    this.stats.traps++;
    this.x = this.instantiate();
    this.onTrap?.(op, error);
  }

  /** Runs the module's selftest on a scratch instance, leaving this one untouched. 0 = pass. */
  selftest(): number {
    const scratch = instantiateSync(this.module).instance.exports as unknown as CoreExports;
    return scratch.selftest();
  }

  memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  tier(name: string): number | undefined {
    return this.tierIndex.get(name);
  }

  tierNames(): string[] {
    return [...this.tierIndex.keys()];
  }

  /** Admission for client (lo, hi): see AllowResult; read retryAfterMs() etc. right after. */
  allow(lo: number, hi: number, tier: number, estimatedTokens: number, nowMs: number): AllowResult {
    let r: number;
    try {
      r = this.x.allow(lo, hi, tier, estimatedTokens, nowMs);
    } catch (e) {
      this.recover("allow", e);
      r = AllowResult.Allow;
    }
    if (r < 0) throw new RangeError(`core.allow: tier ${tier} is not configured`);
    this.stats.count("allow", r);
    return r as AllowResult;
  }

  retryAfterMs(): number {
    return this.x.limiterRetryAfterMs();
  }

  remaining(): number {
    return this.x.limiterRemaining();
  }

  resetMs(): number {
    return this.x.limiterResetMs();
  }

  clients(): number {
    return this.x.limiterClients();
  }

  /** Charges (positive) or refunds (negative) tokens once the real count is known. */
  settle(lo: number, hi: number, deltaTokens: number, nowMs: number): void {
    try {
      this.x.settle(lo, hi, deltaTokens, nowMs);
    } catch (e) {
      this.recover("settle", e);
    }
  }

  /** Replaces the target table; health statistics start over. */
  configureTargets(targets: readonly TargetSpec[]): void {
    this.targets = targets.map((t) => ({ ...t }));
    applyTargets(this.x, this.targets);
  }

  setLoaded(target: number, loaded: boolean): void {
    const spec = this.targets[target];
    if (!spec) throw new RangeError(`core: no target ${target}`);
    spec.loaded = loaded;
    this.x.targetSetLoaded(target, loaded ? 1 : 0);
  }

  setCloudReachable(reachable: boolean): void {
    this.cloudReachable = reachable;
    this.x.setCloudReachable(reachable ? 1 : 0);
  }

  setMemoryFreeMb(mb: number): void {
    this.memoryFreeMb = mb;
    this.x.setMemoryFreeMb(mb);
  }

  /**
   * Routes without allocating: decision | reason << 8 | candidates << 16 (see unpackRoute), with
   * candidate(i) for the fallback order. route() is the convenient form.
   */
  routePacked(req: RouteRequest, nowMs: number): number {
    const { promptTokens: p, maxTokens: m, taskClass: t, priority: pr, flags: f, capabilities: c } = req;
    let packed: number;
    try {
      packed = this.x.route(p, m, t, pr, f, c, nowMs);
    } catch (e) {
      this.recover("route", e);
      try {
        packed = this.x.route(p, m, t, pr, f, c, nowMs);
      } catch (again) {
        this.recover("route", again);
        packed = Decision.Reject | (Reason.CoreFault << 8);
      }
    }
    this.stats.count("route", packed & 0xff);
    return packed;
  }

  /** The i-th candidate of the last route, best first; -1 past the end. */
  candidate(i: number): number {
    return this.x.routeAt(i);
  }

  route(req: RouteRequest, nowMs: number): RouteResult {
    const packed = this.routePacked(req, nowMs);
    const n = (packed >>> 16) & 0xff;
    const candidates = new Array<number>(n);
    for (let i = 0; i < n; i++) candidates[i] = this.x.routeAt(i);
    return { decision: (packed & 0xff) as Decision, reason: ((packed >>> 8) & 0xff) as Reason, candidates };
  }

  targetStart(target: number, nowMs: number): Ticket {
    let t: number;
    try {
      t = this.x.targetStart(target, nowMs);
    } catch (e) {
      this.recover("targetStart", e);
      t = Ticket.Normal;
    }
    if (t < 0) throw new RangeError(`core: no target ${target}`);
    this.stats.count("target_start", t);
    return t as Ticket;
  }

  targetEnd(target: number, ticket: Ticket, outcome: number, latencyMs: number, nowMs: number): Circuit {
    try {
      const c = this.x.targetEnd(target, ticket, outcome, latencyMs, nowMs);
      if (c < 0) throw new RangeError(`core.targetEnd: bad target, ticket or outcome`);
      return c as Circuit;
    } catch (e) {
      if (e instanceof RangeError) throw e;
      this.recover("targetEnd", e);
      return Circuit.Closed;
    }
  }

  circuit(target: number, nowMs: number): Circuit {
    return this.x.targetCircuit(target, nowMs) as Circuit;
  }

  latencyMs(target: number): number | undefined {
    const v = this.x.targetLatencyMs(target);
    return v < 0 ? undefined : v;
  }

  errorRate(target: number, nowMs: number): number {
    return this.x.targetErrorRate(target, nowMs);
  }

  inflight(target: number): number {
    return this.x.targetInflight(target);
  }

  retryDelayMs(attempt: number, retryAfterMs = 0): number {
    try {
      return this.x.retryDelayMs(attempt, retryAfterMs);
    } catch (e) {
      this.recover("retryDelayMs", e);
      return Math.max(this.config.retry.capMs, retryAfterMs);
    }
  }

  retryClassify(status: number, attempts: number): RetryClass {
    let c: number;
    try {
      c = this.x.retryClassify(status, attempts);
    } catch (e) {
      this.recover("retryClassify", e);
      c = RetryClass.Retry;
    }
    this.stats.count("retry_classify", c);
    return c as RetryClass;
  }
}
