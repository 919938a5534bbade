/**
 * The bench's child processes: the mock upstream and the gateway, each with its own event loop. Every
 * child is registered so an exit, an error or Ctrl-C takes them all down with the bench.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { NODE_FLAGS } from "../../../host/runtime.js";
import { freePort } from "../../support/free-port.js";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The commit a bench ran on, `+dirty` when `paths` (the whole tree when none) have changes. */
export function gitCommit(...paths: string[]): string | undefined {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" });
    const dirty = execFileSync("git", ["status", "--porcelain", ...paths], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    return `${head.trim()}${dirty.trim() === "" ? "" : "+dirty"}`;
  } catch {
    return undefined;
  }
}

export interface Child {
  process: ChildProcess;
  /** Parsed JSON lines from stdout (or `{text}` for other lines), in order. */
  lines: Record<string, unknown>[];
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();

function killAll(): void {
  for (const child of running) child.kill("SIGKILL");
}

/** Children die with the bench: on a normal exit, an uncaught error, Ctrl-C or SIGTERM. */
export function killChildrenOnExit(): void {
  process.once("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** Spawns `node ...args` in the repository root, registered to die with the bench. */
export function spawnChild(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let stopping = false;
  const lines: Record<string, unknown>[] = [];
  let text = "";
  // Load errors such as ECONNREFUSED say little; say which process went and what it printed.
  const exited = once(child, "exit").then(([code, signal]) => {
    running.delete(child);
    if (!stopping) process.stderr.write(`bench: ${name} exited unexpectedly (${code ?? signal})\n${text}`);
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    text += `${line}\n`;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ text: line });
    }
  });
  return {
    process: child,
    lines,
    output: () => text,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function exitedEarly(child: Child, what: string): Error | undefined {
  const { exitCode, signalCode } = child.process;
  if (exitCode === null && signalCode === null) return undefined;
  return new Error(`${what} exited (${exitCode ?? signalCode}) before it was ready:\n${child.output()}`);
}

/** Starts test/bench/mock-upstream.ts and resolves with its base URL (ending in /v1). */
export async function startMock(): Promise<{ child: Child; url: string }> {
  const child = spawnChild(
    "mock upstream",
    ["--import", "tsx", "test/bench/mock-upstream.ts", "--port", "0"],
    process.env,
  );
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const url = child.lines.find((line) => line.msg === "listening")?.url;
    if (typeof url === "string") return { child, url };
    const early = exitedEarly(child, "mock upstream");
    if (early) throw early;
    await sleep(20);
  }
  await child.stop();
  throw new Error(`mock upstream did not report its URL within 20 s:\n${child.output()}`);
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtimeMs(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Runs `npm run build:ts` when dist/host/cli.js is missing or older than a source under host/. */
export function ensureBuilt(): "fresh" | "rebuilt" {
  const cli = join(REPO_ROOT, "dist/host/cli.js");
  if (existsSync(cli) && statSync(cli).mtimeMs >= newestMtimeMs(join(REPO_ROOT, "host"))) return "fresh";
  const build = spawnSync("npm", ["run", "--silent", "build:ts"], { cwd: REPO_ROOT, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`npm run build:ts failed:\n${build.stdout}${build.stderr}`);
  return "rebuilt";
}

export interface GatewayOptions {
  /** "dist": node dist/host/cli.js (built first when stale); "tsx": node --import tsx host/cli.ts. */
  mode: "dist" | "tsx";
  env: Record<string, string>;
  /** Node flags. Default: NODE_FLAGS, the ones the gateway is deployed with; [] for Node's defaults. */
  nodeArgs?: string[];
}

/**
 * Starts the gateway on a free loopback port. The port is picked here rather than read back from the
 * "listening" line, because that line is logged at info and the bench runs the gateway at warn (an
 * access-log line per request would be part of what is measured). Ready once /health answers 200.
 */
export async function startGateway(options: GatewayOptions): Promise<{ child: Child; origin: string }> {
  const port = await freePort();
  const entry = options.mode === "dist" ? ["dist/host/cli.js"] : ["--import", "tsx", "host/cli.ts"];
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith("GATEWAY_")) env[name] = value;
  const child = spawnChild(
    "gateway",
    [...(options.nodeArgs ?? NODE_FLAGS), ...entry, "serve", "--host", "127.0.0.1", "--port", String(port)],
    { ...env, ...options.env },
  );
  let origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const early = exitedEarly(child, "gateway");
    if (early) throw early;
    const listening = child.lines.find((line) => line.msg === "listening")?.url;
    if (typeof listening === "string") origin = listening;
    try {
      const res = await request(`${origin}/health`);
      await res.body.dump();
      if (res.statusCode === 200) return { child, origin };
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  await child.stop();
  throw new Error(`gateway did not answer /health within 30 s:\n${child.output()}`);
}
