/**
 * The official MCP conformance suite as a child process. It needs Node >= 22, so it lives in a
 * package of its own (test/conformance/suite/) whose node_modules/.bin/node is the `node@22` package
 * from the npm registry: installed there, that binary never shadows the system Node that the gateway's
 * own npm scripts, native modules (better-sqlite3) and tests run on.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { REPO_ROOT } from "../bench/http/processes.js";

export const SUITE_DIR = join(REPO_ROOT, "test/conformance/suite");
const NODE_22 = join(SUITE_DIR, "node_modules/.bin/node");
const SUITE_PACKAGE = join(SUITE_DIR, "node_modules/@modelcontextprotocol/conformance");
const INSTALL_TIMEOUT_MS = 5 * 60_000;

/** One check of one scenario, as the suite writes it to `<scenario>/checks.json`. */
export interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO";
  errorMessage?: string;
}

export interface SuiteInfo {
  version: string;
  node: string;
}

export interface SuiteRun {
  /** Checks per scenario; a scenario the suite wrote nothing for is absent. */
  scenarios: Map<string, Check[]>;
  exitCode: number | null;
  timedOut: boolean;
  output: string;
}

const running = new Set<ChildProcess>();

/** Suite runs in flight; the runner kills them with its other children on exit. */
export function killSuiteRuns(): void {
  for (const child of running) child.kill("SIGKILL");
}

/** Installs the suite package (npm ci) when it is missing or older than its lockfile. */
export function ensureSuite(): "fresh" | "installed" {
  const marker = join(SUITE_DIR, "node_modules/.package-lock.json");
  const lock = join(SUITE_DIR, "package-lock.json");
  if (existsSync(NODE_22) && existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs)
    return "fresh";
  const install = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], {
    cwd: SUITE_DIR,
    encoding: "utf8",
    timeout: INSTALL_TIMEOUT_MS,
  });
  if (install.status !== 0)
    throw new Error(
      `npm ci in ${SUITE_DIR} failed:\n${install.stdout}${install.stderr}${install.error ?? ""}`,
    );
  return "installed";
}

export function suiteInfo(): SuiteInfo {
  const pkg = JSON.parse(readFileSync(join(SUITE_PACKAGE, "package.json"), "utf8")) as { version: string };
  const node = spawnSync(NODE_22, ["--version"], { encoding: "utf8" }).stdout.trim();
  if (!/^v(2[2-9]|[3-9]\d)\./.test(node))
    throw new Error(`${NODE_22} is ${node || "not runnable"}, not Node >= 22`);
  return { version: pkg.version, node };
}

/**
 * The requirement set the suite ships for a revision: `scored` scenarios count toward conformance,
 * `notScored` ones (extensions, pending, added after release) are run and reported all the same;
 * `extensions` are the not-scored ones that test an optional protocol extension.
 */
export function requirementSet(revision: string): {
  scored: string[];
  notScored: string[];
  extensions: string[];
} {
  const file = join(SUITE_PACKAGE, "requirements", `${revision}.yaml`);
  const set = parse(readFileSync(file, "utf8")) as {
    server?: string[];
    not_scored?: { scenario: string; leg: string; reason: string }[];
  };
  const notScored = (set.not_scored ?? []).filter((entry) => entry.leg === "server");
  return {
    scored: set.server ?? [],
    notScored: notScored.map((entry) => entry.scenario),
    extensions: notScored.filter((entry) => entry.reason === "extension").map((entry) => entry.scenario),
  };
}

/** `conformance server --url URL --requirements REVISION -o DIR`, killed after `timeoutMs`. */
export async function runSuite(
  url: string,
  revision: string,
  outDir: string,
  timeoutMs: number,
): Promise<SuiteRun> {
  const args = [join(SUITE_PACKAGE, "dist/index.js"), "server", "--url", url, "--requirements", revision];
  const child = spawn(NODE_22, [...args, "-o", outDir], {
    cwd: SUITE_DIR,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString("utf8");
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  running.delete(child);
  return { scenarios: readChecks(outDir), exitCode: code, timedOut, output };
}

/** Directories are named `server-<scenario>-<ISO time with dashes>`. */
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

function readChecks(outDir: string): Map<string, Check[]> {
  const scenarios = new Map<string, Check[]>();
  if (!existsSync(outDir)) return scenarios;
  for (const entry of readdirSync(outDir)) {
    const scenario = RESULT_DIR.exec(entry)?.[1];
    const file = join(outDir, entry, "checks.json");
    if (scenario === undefined || !existsSync(file)) continue;
    scenarios.set(scenario, JSON.parse(readFileSync(file, "utf8")) as Check[]);
  }
  return scenarios;
}
