// `npm run test:conformance`: the official MCP conformance suite run against the fixture server
// (test/fixtures/mcp/everything-server.ts) directly, then against the gateway with that fixture as
// its only upstream, for the 2025-11-25 and 2026-07-28 requirement sets. The gateway is transparent
// when both legs produce the same checks with the same statuses, scenario by scenario, scored or not.
// Extension scenarios (the tasks extension) are compared and shown but do not fail the run: the
// gateway serves tasks itself, by design, for upstreams that have none. Prints a table per revision
// and one CONFORMANCE_JSON line, writes docs/bench/conformance.json, and exits 1 when the legs differ
// or the fixture leg produced no results.
//
// Flags: --revisions 2025-11-25,2026-07-28 (default both), --no-gateway (the fixture leg alone),
// --timeout-s N (one suite run, default 180), --keep (leave the suites' checks.json in the temp dir).

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { ensureBuilt, killChildrenOnExit, REPO_ROOT, startGateway } from "../bench/http/processes.js";
import { differences, type Leg, summarize, table } from "./report.js";
import { type Check, ensureSuite, killSuiteRuns, requirementSet, runSuite, suiteInfo } from "./suite.js";

const FIXTURE = "test/fixtures/mcp/everything-server.ts";
const FIXTURE_START_TIMEOUT_MS = 30_000;
const UPSTREAM_UP_TIMEOUT_MS = 20_000;

const { values } = parseArgs({
  options: {
    revisions: { type: "string", default: "2025-11-25,2026-07-28" },
    "no-gateway": { type: "boolean", default: false },
    "timeout-s": { type: "string", default: "180" },
    keep: { type: "boolean", default: false },
  },
});
const revisions = values.revisions.split(",").map((r) => r.trim());
const timeoutMs = Number(values["timeout-s"]) * 1000;
if (!(timeoutMs > 0) || revisions.some((r) => !/^\d{4}-\d{2}-\d{2}$/.test(r)))
  throw new Error("--revisions expects YYYY-MM-DD[,YYYY-MM-DD], --timeout-s a positive number");

const log = (text: string) => process.stderr.write(`${text}\n`);
const fixtures = new Set<ChildProcess>();

/** A fresh fixture per suite run, so nothing one run did (subscriptions, listeners) leaks into the next. */
async function startFixture(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, "--port", "0"], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  fixtures.add(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    fixtures.delete(child);
  };
  const url = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), FIXTURE_START_TIMEOUT_MS);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const parsed = /^\{.*\}$/.test(line) ? (JSON.parse(line) as { msg?: string; url?: string }) : {};
      if (parsed.msg === "listening" && parsed.url) {
        clearTimeout(timer);
        resolve(parsed.url);
      }
    });
    void exited.then(() => resolve(undefined));
  });
  if (url === undefined) {
    await stop();
    throw new Error(
      `the fixture did not report its URL within ${FIXTURE_START_TIMEOUT_MS / 1000} s:\n${stderr}`,
    );
  }
  return { url, stop };
}

interface Measured {
  leg: Leg;
  checks: Map<string, Check[]>;
}

/** One suite run; a run that wrote nothing, or was killed, comes back as an error. */
async function measure(url: string, revision: string, outDir: string, scored: string[]): Promise<Measured> {
  const run = await runSuite(url, revision, outDir, timeoutMs);
  const leg = summarize(run.scenarios, scored);
  if (run.timedOut) leg.error = `the suite was killed after ${timeoutMs / 1000} s`;
  else if (run.scenarios.size === 0)
    leg.error = `the suite wrote no results (exit ${run.exitCode}):\n${run.output.slice(-2000)}`;
  return { leg, checks: run.scenarios };
}

async function fixtureLeg(revision: string, dir: string, scored: string[]): Promise<Measured> {
  const fixture = await startFixture();
  try {
    return await measure(fixture.url, revision, join(dir, `fixture-${revision}`), scored);
  } finally {
    await fixture.stop();
  }
}

/**
 * /health answers before the gateway has connected to its upstream: wait until /ready lists the
 * fixture as up, so the suite measures the proxy and not its start-up. Returns why it never came up.
 */
async function upstreamUp(origin: string): Promise<string | undefined> {
  const deadline = Date.now() + UPSTREAM_UP_TIMEOUT_MS;
  let last = "no answer from /ready";
  while (Date.now() < deadline) {
    try {
      const body = (await (await fetch(`${origin}/ready`)).json()) as {
        mcp?: { upstreams?: { status: string; error?: string }[] } | null;
      };
      const upstream = body.mcp?.upstreams?.[0];
      if (upstream?.status === "up") return undefined;
      last = upstream
        ? `upstream ${upstream.status}${upstream.error ? `: ${upstream.error}` : ""}`
        : "no mcp upstream in /ready";
    } catch (error) {
      last = String(error);
    }
    await sleep(100);
  }
  return `the gateway did not connect to the fixture within ${UPSTREAM_UP_TIMEOUT_MS / 1000} s (${last})`;
}

/** The gateway on a free loopback port, with the fixture as its one upstream and no model to load. */
async function gatewayLeg(revision: string, dir: string, scored: string[]): Promise<Measured> {
  const fixture = await startFixture();
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    const config = join(dir, `gateway-${revision}.yaml`);
    writeFileSync(
      config,
      [
        "models:",
        "  enabled: false",
        "core:",
        "  limiter:",
        "    # the suite sends a few hundred requests a minute; rate limits are policy, not protocol",
        "    tiers: { default: { requestsPerMinute: 0 } }",
        "mcp:",
        "  # the gateway's own tools (edge_chat, ...) would be extra surface the fixture does not have",
        "  gatewayTools: false",
        "  upstreams:",
        "    - name: fixture",
        `      url: ${fixture.url}`,
        "",
      ].join("\n"),
    );
    const env = {
      GATEWAY_CONFIG: config,
      GATEWAY_DATA_DIR: join(dir, `data-${revision}`),
      GATEWAY_LOG_LEVEL: "warn",
    };
    try {
      gateway = await startGateway({ mode: "dist", env });
    } catch (error) {
      return { leg: { error: error instanceof Error ? error.message : String(error) }, checks: new Map() };
    }
    const unreachable = await upstreamUp(gateway.origin);
    if (unreachable) return { leg: { error: unreachable }, checks: new Map() };
    return await measure(`${gateway.origin}/mcp`, revision, join(dir, `gateway-${revision}`), scored);
  } finally {
    await gateway?.child.stop();
    await fixture.stop();
  }
}

killChildrenOnExit();
process.once("exit", () => {
  for (const child of fixtures) child.kill("SIGKILL");
  killSuiteRuns();
});

const startedMs = performance.now();
log(
  `conformance suite: ${ensureSuite() === "installed" ? "installed" : "up to date"} in test/conformance/suite`,
);
const suite = suiteInfo();
const build = values["no-gateway"] ? "not used" : ensureBuilt();
const dir = mkdtempSync(join(tmpdir(), "gw-conformance-"));
const results: Record<string, { fixture: Leg; gateway: Leg; differing: string[]; failing: string[] }> = {};
let ok = true;
try {
  for (const revision of revisions) {
    const { scored, notScored, extensions } = requirementSet(revision);
    log(`${revision}: fixture leg`);
    const fixture = await fixtureLeg(revision, dir, scored);
    let gateway: Measured = { leg: { error: "not run (--no-gateway)" }, checks: new Map() };
    if (!values["no-gateway"]) {
      log(`${revision}: gateway leg`);
      gateway = await gatewayLeg(revision, dir, scored);
    }
    const differing = gateway.leg.error ? [] : differences(fixture.checks, gateway.checks);
    // The requirement set is the scored scenarios: those must agree. Differences elsewhere (the
    // tasks extension, which the gateway serves itself, and other not-scored checks) are shown.
    const failing = differing.filter((name) => scored.includes(name));
    results[revision] = { fixture: fixture.leg, gateway: gateway.leg, differing, failing };
    const legs = { fixture: fixture.leg, gateway: gateway.leg };
    console.log(
      `\n${table(revision, [...scored, ...notScored], legs, differing, new Set([...extensions, ...notScored]))}`,
    );
    if (fixture.leg.error || (!values["no-gateway"] && (gateway.leg.error || failing.length > 0))) ok = false;
  }
} finally {
  if (values.keep) log(`suite results kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

const record = {
  bench: "conformance",
  date: new Date().toISOString(),
  node: process.version,
  cpus: availableParallelism(),
  suite: { package: "@modelcontextprotocol/conformance", version: suite.version, node: suite.node },
  gateway: values["no-gateway"] ? "not run" : { mode: "dist", build },
  revisions: results,
  ok,
  runS: Math.round((performance.now() - startedMs) / 100) / 10,
};
const verdict = !ok
  ? "MISMATCH or missing results: see the tables above"
  : values["no-gateway"]
    ? "fixture leg only (--no-gateway)"
    : "gateway and fixture agree on every check";
console.log(`\n${verdict} (${record.runS} s)`);
console.log(`CONFORMANCE_JSON ${JSON.stringify(record)}`);
const out = join(REPO_ROOT, "docs/bench/conformance.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
log(`wrote ${out}`);
process.exitCode = ok ? 0 : 1;
