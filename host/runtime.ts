import { getHeapStatistics, setFlagsFromString } from "node:v8";

/**
 * The Node flags the gateway is deployed with: `npm start`, the systemd unit and the container all
 * run `node ${NODE_FLAGS} dist/host/cli.js serve` (test/deployment checks they agree). They bound the
 * V8 heap for a device with little memory, and the threads that work for it:
 *
 * - `--max-semi-space-size=8`: the young generation is 2 x 8 MB instead of 2 x 16 MB. Every request's
 *   garbage dies young; a smaller nursery means more frequent scavenges, not more memory.
 * - `--max-old-space-size=128`: with a small maximum V8 grows the old generation by about 1.3x of
 *   what survived the last full collection instead of up to 4x, so garbage promoted under load is
 *   collected at tens of MB rather than at a hundred. The gateway's live heap is about 25 MB
 *   serving; 128 MB leaves room for large bodies and an MCP catalogue.
 * - `--v8-pool-size=1`: one V8 background thread (concurrent marking, scavenge helpers, optimizing
 *   compiles) instead of four. On a 2-core board the gateway shares with its model runner and the
 *   clients, extra helpers mostly wait for a core; measured here, one thread served 4-6% more
 *   requests and held 4 MB less at peak.
 *
 * The price is throughput: at full speed on 2 cores about a tenth fewer requests than under Node's
 * defaults. docs/performance.md has the measurements (throughput and peak memory with and without the
 * flags, in one run).
 */
export const NODE_FLAGS = [
  "--max-semi-space-size=8",
  "--max-old-space-size=128",
  "--v8-pool-size=1",
] as const;

/** The V8 heap limit this process runs with, in MiB. */
export function heapLimitMb(): number {
  return Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
}

/** Whether this process was started with every flag of NODE_FLAGS (on the command line or in NODE_OPTIONS). */
export function hasDeployedFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? "",
): boolean {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)]);
  return NODE_FLAGS.every((flag) => given.has(flag));
}

/**
 * Compiles every WebAssembly module loaded from now on with V8's baseline tier (Liftoff) only. Call
 * it once the policy core is compiled: V8 reads the flag when it compiles a module, so the core keeps
 * its optimizing tier (its routing decision takes 150 ns optimized and 205 ns baseline-only). The
 * module that matters is undici's HTTP/1 parser (llhttp), compiled on the first upstream connection:
 * when the optimizing tier picks up its parser function under the first requests, that one compile
 * takes about 35 MB for a moment, a third of the gateway's footprint, and the high-water mark is
 * what a device has to provision for. Measured here the baseline parser costs no throughput the bench
 * can see.
 */
export function baselineTierForLaterWasm(): void {
  setFlagsFromString("--liftoff-only");
}
