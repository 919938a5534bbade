/**
 * The side-by-side part of `npm run bench`: the same load, from the same generators with the same
 * settings, against the mock upstream directly, through this gateway and through the peer. Phases
 * are interleaved (every side runs phase 1, then every side runs phase 2, ...) so a change in the
 * machine's load during the run falls on all sides alike rather than on whichever ran last, and a
 * side's phase during which other processes took a share of the machine is measured again once the
 * machine is quiet (within a bound on repeats, so the run stays bounded in time).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { cpuSnapshot, foreignCpuPct } from "../http/cpu.js";
import { cannon, type LoadResult, paced, sseTtfb, type Target, type TtfbResult } from "../http/load.js";
import { processMemory } from "../http/memory.js";
import { waitForQuiet } from "./quiet.js";

export interface SideSettings {
  /** Each measured load phase. */
  seconds: number;
  /** The evenly paced rate for the latency phase: one every side sustains. */
  ratePerS: number;
  maxConnections: number;
  /**
   * Rounds of the max-throughput phase, interleaved across sides; each side keeps its best round.
   * Another process on a shared machine only ever takes throughput away, so the best round is the
   * one least disturbed, and every side gets the same number of tries.
   */
  maxRounds: number;
  sseRequests: number;
  warmupS: number;
  sseWarmup: number;
  /** Quiet time before each measured phase and before each idle memory reading. */
  settleMs: number;
  /** Share of the machine other processes may take during a phase before it is measured again. */
  noisyPct: number;
  /** Phases measured again for noise, at most, over the whole run (bounds its length). */
  noisyRepeats: number;
  /** Before measuring a noisy phase again, wait at most this long for the machine to quieten. */
  quietWaitS: number;
}

/** A side: where the load goes, and the process whose memory is that side's (the mock for direct). */
export interface Side {
  target: Target;
  pid: number | undefined;
}

export interface SideMemory {
  /** VmRSS after start-up and one request, before any load. */
  idleMb: number | undefined;
  /** VmHWM at the end: the most the process held at any moment of the run. */
  peakMb: number | undefined;
  /** VmRSS once the load has stopped and the process has settled. */
  afterLoadMb: number | undefined;
}

export interface SideFigures {
  paced: LoadResult;
  /** The best of the max-throughput rounds. */
  max: LoadResult;
  /** Each max-throughput round in order: 2xx per second, and non-2xx, errors and timeouts. */
  maxRounds: { okPerS: number; failures: number }[];
  sse: TtfbResult;
  memory: SideMemory;
}

export interface SidesResult {
  figures: Record<string, SideFigures>;
  /** Percent of the machine other processes used in each phase's kept run. */
  foreignCpuPct: Record<string, number | undefined>;
  /** Phases measured again because another process disturbed them, and how often. */
  repeated: Record<string, number>;
}

/**
 * One non-streaming and one streaming request: a side that cannot answer fails the bench at once.
 * Resolves with the x-edge-target header (where this gateway routed), if the side sent one.
 */
export async function smoke(target: Target): Promise<string | undefined> {
  let routedTo: string | undefined;
  for (const stream of [false, true]) {
    const res = await request(`${target.origin}${target.path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...target.headers },
      body: JSON.stringify({ model: "auto", stream, messages: [{ role: "user", content: "hello" }] }),
    });
    const text = await res.body.text();
    const expected = stream ? "data: [DONE]" : '"chat.completion"';
    if (res.statusCode !== 200 || !text.includes(expected)) {
      throw new Error(`${target.name}: smoke request answered ${res.statusCode}: ${text.slice(0, 500)}`);
    }
    routedTo ??= res.headers["x-edge-target"]?.toString();
  }
  return routedTo;
}

export async function measureSides(
  sides: readonly Side[],
  settings: SideSettings,
  log: (line: string) => void,
): Promise<SidesResult> {
  const pids = sides.map((s) => s.pid);
  const idle: Record<string, number | undefined> = {};
  await sleep(settings.settleMs);
  for (const side of sides) idle[side.target.name] = processMemory(side.pid)?.rssMb;

  for (const { target } of sides) {
    log(`warm-up ${target.name}: ${settings.warmupS} s at ${settings.maxConnections} connections`);
    await cannon(target, { connections: settings.maxConnections, durationS: settings.warmupS });
    await sseTtfb(target, settings.sseWarmup);
  }
  const partial: Record<string, Partial<SideFigures>> = {};
  for (const { target } of sides) partial[target.name] = {};
  const foreign: Record<string, number | undefined> = {};
  const repeated: Record<string, number> = {};
  let repeatsLeft = settings.noisyRepeats;
  /** Runs one phase on every side; a side's run disturbed by another process is measured again. */
  const phase = async <T>(
    name: string,
    label: string,
    run: (target: Target) => Promise<T>,
    keep: (target: Target, result: T) => void,
  ) => {
    for (const { target } of sides) {
      const key = `${name} ${target.name}`;
      for (;;) {
        log(`${label}: ${target.name}${repeated[key] ? ` (again, ${repeated[key]})` : ""}`);
        await sleep(settings.settleMs);
        const before = cpuSnapshot(pids);
        const result = await run(target);
        const pct = foreignCpuPct(before, cpuSnapshot(pids));
        if (pct !== undefined && pct > settings.noisyPct && repeatsLeft > 0) {
          repeatsLeft--;
          repeated[key] = (repeated[key] ?? 0) + 1;
          log(`  other processes took ${pct}% of the machine: measuring again once it is quiet`);
          await waitForQuiet(settings.quietWaitS, settings.noisyPct, log);
          continue;
        }
        foreign[key] = pct;
        keep(target, result);
        break;
      }
    }
  };
  const at = (target: Target) => partial[target.name] as Partial<SideFigures>;
  const { seconds, ratePerS, maxConnections } = settings;
  await phase(
    "paced",
    `${ratePerS} req/s evenly paced, ${seconds} s`,
    (target) => paced(target, { ratePerS, durationS: seconds, connections: maxConnections }),
    (target, result) => {
      at(target).paced = result;
    },
  );
  for (let round = 1; round <= settings.maxRounds; round++) {
    await phase(
      `max${round}`,
      `max throughput, ${maxConnections} connections, ${seconds} s, round ${round}/${settings.maxRounds}`,
      (target) => cannon(target, { connections: maxConnections, durationS: seconds }),
      (target, result) => {
        const side = at(target);
        const failures = result.non2xx + result.errors + result.timeouts;
        side.maxRounds = [...(side.maxRounds ?? []), { okPerS: result.okPerS, failures }];
        if (side.max === undefined || result.okPerS > side.max.okPerS) side.max = result;
      },
    );
  }
  await phase(
    "sse",
    `SSE time to first byte, ${settings.sseRequests} sequential streams`,
    (target) => sseTtfb(target, settings.sseRequests),
    (target, result) => {
      at(target).sse = result;
    },
  );
  await sleep(settings.settleMs);
  const figures: Record<string, SideFigures> = {};
  for (const side of sides) {
    const now = processMemory(side.pid);
    const name = side.target.name;
    figures[name] = {
      ...(partial[name] as Omit<SideFigures, "memory">),
      memory: { idleMb: idle[name], peakMb: now?.peakRssMb, afterLoadMb: now?.rssMb },
    };
  }
  return { figures, foreignCpuPct: foreign, repeated };
}
