/**
 * The earlier benchmarks, run by `npm run bench` as child processes through their own npm scripts,
 * one after another and never beside the side-by-side load: the policy core (bench:core), the
 * durable queue (bench:queue) and the local model path (bench:local). Each prints one BENCH_JSON
 * line, which is kept whole in the report. Each runs with its own default counts (together about two
 * minutes on 2 cores; the queue's gateway from dist/, as the side-by-side part runs it) and under a
 * time bound, past which its process group is killed and the suite reported as failed.
 *
 * bench:queue and bench:local also write docs/bench/queue.json and local.json; those files keep
 * their own full-length runs, so they are put back as they were once the suite has run.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "../http/processes.js";

export interface SuiteSpec {
  name: "core" | "queue" | "local";
  script: string;
  args: string[];
  env?: Record<string, string>;
  /** Files the suite writes that are put back afterwards. */
  writes: string[];
  timeoutS: number;
}

export const SUITES: readonly SuiteSpec[] = [
  { name: "core", script: "bench:core", args: [], writes: [], timeoutS: 180 },
  {
    name: "queue",
    script: "bench:queue",
    args: ["--gateway", "dist"],
    writes: ["docs/bench/queue.json"],
    timeoutS: 240,
  },
  {
    name: "local",
    script: "bench:local",
    args: [],
    writes: ["docs/bench/local.json"],
    timeoutS: 300,
  },
];

export interface SuiteRun {
  name: string;
  command: string;
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  durationS: number;
  /** The suite's BENCH_JSON record, as it printed it. */
  record: Record<string, unknown> | undefined;
}

const running = new Set<number>();

/** Whatever the suite left behind in its process group (nothing, when it cleaned up after itself). */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

process.once("exit", () => {
  for (const pid of running) killGroup(pid);
});

function npmArgs(spec: SuiteSpec): string[] {
  return ["run", "--silent", spec.script, ...(spec.args.length > 0 ? ["--", ...spec.args] : [])];
}

export const suiteCommand = (spec: SuiteSpec) => `npm ${npmArgs(spec).join(" ")}`;

export async function runSuite(spec: SuiteSpec, log: (line: string) => void): Promise<SuiteRun> {
  const args = npmArgs(spec);
  const command = suiteCommand(spec);
  const saved = spec.writes.map((file) => {
    const path = join(REPO_ROOT, file);
    return { path, text: existsSync(path) ? readFileSync(path, "utf8") : undefined };
  });
  const startedMs = performance.now();
  // Its own process group, so a bound or an exit takes down npm, tsx and every server it started.
  const child = spawn("npm", args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...spec.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const pid = child.pid as number;
  running.add(pid);
  let record: Record<string, unknown> | undefined;
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line.startsWith("BENCH_JSON ")) record = JSON.parse(line.slice("BENCH_JSON ".length));
    else log(`[${spec.name}] ${line}`);
  });
  createInterface({ input: child.stderr }).on("line", (line) => {
    if (!line.includes('Unknown user config "nodedir"')) log(`[${spec.name}] ${line}`);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    log(`[${spec.name}] still running after ${spec.timeoutS} s: stopped`);
    killGroup(pid);
  }, spec.timeoutS * 1000);
  // "close", not "exit": the BENCH_JSON line may still be in the pipe when npm exits.
  const exitCode = await new Promise<number | null>((resolve) =>
    child.once("close", (code) => resolve(code)),
  );
  clearTimeout(timer);
  killGroup(pid);
  running.delete(pid);
  for (const { path, text } of saved) if (text !== undefined) writeFileSync(path, text);
  return {
    name: spec.name,
    command,
    ok: exitCode === 0 && !timedOut && record !== undefined,
    exitCode,
    timedOut,
    durationS: Math.round((performance.now() - startedMs) / 100) / 10,
    record,
  };
}
