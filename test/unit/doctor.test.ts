import { once } from "node:events";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runDoctor } from "../../host/cli-doctor.js";
import { runCli } from "../../host/cli-run.js";
import { type CheckResult, MIN_NODE_VERSION } from "../../host/doctor/index.js";
import { checkCpu, checkMemory, checkNode, type SystemFacts } from "../../host/doctor/system.js";
import { generateTinyModel, packageModelsDir } from "../../host/models/index.js";
import { QueueStore } from "../../host/queue/index.js";
import { chatInput, mustEnqueue, ROOMY } from "../queue/fixtures.js";
import { freePort } from "../support/free-port.js";

// `edge-gateway doctor` in-process through runCli, against temp data and model directories, a real
// MCP upstream on 127.0.0.1 and a cloud URL on a port nobody listens on.

let root: string;
let modelsDir: string;
let closedPort: number;

beforeAll(async () => {
  closedPort = await freePort();
});

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "gw-doctor-"));
  modelsDir = join(root, "models");
  await mkdir(modelsDir);
  await copyFile(join(packageModelsDir(), "tiny-demo.yaml"), join(modelsDir, "tiny-demo.yaml"));
  await generateTinyModel(join(modelsDir, "tiny", "tiny-demo.gguf"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

async function run(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli({
    argv: ["doctor", "--port", "0", ...argv],
    env: { GATEWAY_MODELS_DIR: modelsDir, PATH: process.env.PATH, ...env },
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

async function runJson(argv: string[], env: Record<string, string | undefined> = {}) {
  const { code, stdout } = await run([...argv, "--json"], env);
  const report = JSON.parse(stdout) as { fit: boolean; summary: string; checks: CheckResult[] };
  const byName = new Map(report.checks.map((c) => [c.check, c]));
  return { code, report, check: (name: string) => byName.get(name) };
}

/** The table row of `check` and the fix line under it, if any. */
function rowOf(table: string, check: string): string[] {
  const lines = table.split("\n");
  const at = lines.findIndex((line) => line.startsWith(`${check} `));
  if (at < 0) return [];
  const next = lines[at + 1] ?? "";
  return /^\s+fix: /.test(next) ? [lines[at] as string, next.trim()] : [lines[at] as string];
}

/** A Streamable HTTP MCP endpoint that answers initialize and records what it was sent. */
async function mcpServer(status = 200): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    seen.push(
      `${req.method} ${req.headers.authorization ?? ""} ${body ? JSON.parse(body).method : ""}`.trim(),
    );
    if (req.method === "DELETE") {
      res.writeHead(200).end();
      return;
    }
    res.writeHead(status, { "content-type": "application/json", "mcp-session-id": "s-1" });
    res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, result: { protocolVersion: "2025-11-25" } }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, seen, server };
}

describe("edge-gateway doctor on a healthy setup", () => {
  it("exits 0 and shows every check ok in a table, the tiny model hashed", async () => {
    const dataDir = join(root, "data");
    const { code, stdout } = await run(["--data-dir", dataDir]);
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(lines[0]).toMatch(/^CHECK\s+STATUS\s+DETAIL$/);
    for (const check of ["node", "policy core", "api keys", "listen", "data dir", "queue", "cloud"]) {
      expect(rowOf(stdout, check)[0]).toMatch(new RegExp(`^${check}\\s+ok\\s+\\S`));
    }
    // Nothing is left behind: a doctor run with sudo must not leave root-owned files for the service.
    expect(rowOf(stdout, "data dir")[0]).toContain(
      `${dataDir} takes a durable write (fsync) (missing: created for the check and removed; serve creates it)`,
    );
    expect(rowOf(stdout, "queue")[0]).toContain("(serve creates it); a scratch one opened and migrated");
    expect(existsSync(dataDir)).toBe(false);
    expect(rowOf(stdout, "model tiny-demo")[0]).toMatch(/ok\s+427\.3 KB, header ok, sha256 ok$/);
    expect(rowOf(stdout, "model tiny-demo settings")[0]).toMatch(/ok\s+1 thread of \d+ cores/);
    expect(stdout).not.toContain("fail");
    expect(stdout).toMatch(/\n\nfit to serve(: all \d+ checks ok|, with \d+ warnings?)\n$/);
  });

  it("checks MCP upstreams: an HTTP one answers initialize (its session closed again), a stdio one is executable", async () => {
    const mcp = await mcpServer();
    try {
      const config = join(root, "gateway.yaml");
      await writeFile(
        config,
        [
          "mcp:",
          "  upstreams:",
          `    - { name: web, url: "${mcp.url}", headers: { authorization: "Bearer up-key" } }`,
          `    - { name: local, command: ${JSON.stringify(process.execPath)} }`,
          "    - { name: shell, command: sh }",
        ].join("\n"),
      );
      const { code, check } = await runJson(["--config", config, "--data-dir", join(root, "data")]);
      expect(code).toBe(0);
      expect(check("mcp web")).toMatchObject({
        status: "ok",
        detail: `${mcp.url} answered initialize (HTTP 200)`,
      });
      expect(mcp.seen).toEqual(["POST Bearer up-key initialize", "DELETE Bearer up-key"]);
      expect(check("mcp local")).toMatchObject({ status: "ok", detail: `${process.execPath} is executable` });
      expect(check("mcp shell")?.status).toBe("ok");
    } finally {
      mcp.server.close();
    }
  });

  it("skips the SHA-256 with --no-hash and says so", async () => {
    const dataDir = join(root, "data");
    await mkdir(dataDir);
    const { code, check } = await runJson(["--data-dir", dataDir, "--no-hash"]);
    expect(code).toBe(0);
    expect(check("data dir")?.detail).toBe(`${dataDir} takes a durable write (fsync)`);
    expect(await readdir(dataDir)).toEqual([]);
    expect(check("model tiny-demo")?.detail).toBe("427.3 KB, header ok, sha256 not checked (--no-hash)");
  });

  it("counts the queue and warns about dead items with the commands that deal with them", async () => {
    const dataDir = join(root, "data");
    await mkdir(dataDir);
    const store = new QueueStore(join(dataDir, "queue.db"), { limits: ROOMY });
    const dead = await mustEnqueue(store, chatInput());
    expect(store.claimDue("w_1", 1, 60_000).map((i) => i.id)).toEqual([dead.id]);
    store.finish(dead.id, "w_1", "dead", undefined, "http 503: down");
    await mustEnqueue(store, chatInput());
    store.close();
    const { code, check } = await runJson(["--data-dir", dataDir]);
    expect(code).toBe(0);
    expect(check("queue")).toEqual({
      check: "queue",
      status: "warn",
      detail: `${join(dataDir, "queue.db")}: 1 queued, 0 in flight, 1 dead`,
      fix: `look at them with edge-gateway queue ls --status dead --data-dir ${dataDir}, then queue retry --all-dead or queue purge --status dead`,
    });
  });

  it("shows models as disabled with models.enabled false", async () => {
    const { code, check } = await runJson(["--data-dir", join(root, "data")], {
      GATEWAY_MODELS__ENABLED: "false",
    });
    expect(code).toBe(0);
    expect(check("models")).toEqual({
      check: "models",
      status: "ok",
      detail: "disabled (models.enabled: false)",
    });
  });
});

describe("edge-gateway doctor on a broken setup", () => {
  it("exits 1 and shows each failure with its fix: a missing model file, a data dir under a regular file", async () => {
    const file = join(root, "file");
    await writeFile(file, "x");
    await writeFile(
      join(modelsDir, "big.yaml"),
      "id: big\nfile: big.gguf\ncontextSize: 4096\nthreads: 4096\nmemoryMb: 900\n",
    );
    const { code, stdout } = await run(["--data-dir", join(file, "data")], {
      GATEWAY_CLOUD_URL: `http://127.0.0.1:${closedPort}/v1`,
    });
    expect(code).toBe(1);
    const [dataDir, dataDirFix] = rowOf(stdout, "data dir");
    expect(dataDir).toMatch(/^data dir\s+fail\s+.*file\/data does not take a durable write: ENOTDIR/);
    expect(dataDirFix).toMatch(
      /^fix: point server\.dataDir \(--data-dir, GATEWAY_DATA_DIR\) at a writable directory/,
    );
    const [queue, queueFix] = rowOf(stdout, "queue");
    expect(queue).toMatch(/^queue\s+fail\s+.*queue\.db cannot be opened/);
    expect(queueFix).toBe("fix: fix the data directory first (see data dir)");
    const [model, modelFix] = rowOf(stdout, "model big");
    expect(model).toMatch(/^model big\s+fail\s+.*models\/big\.gguf not found$/);
    expect(modelFix).toContain("edge-gateway models rm big");
    const [threads, threadsFix] = rowOf(stdout, "model big settings");
    expect(threads).toMatch(/warn\s+4096 threads on \d+ cores$/);
    expect(threadsFix).toMatch(/^fix: set threads: \d+ \(or fewer\) in .*big\.yaml$/);
    // The cloud is away: a warning, never a failure; the gateway serves offline.
    const [cloud, cloudFix] = rowOf(stdout, "cloud");
    expect(cloud).toMatch(
      new RegExp(`^cloud\\s+warn\\s+http://127\\.0\\.0\\.1:${closedPort}/v1 unreachable: ECONNREFUSED`),
    );
    expect(cloudFix).toMatch(/^fix: check the network/);
    expect(rowOf(stdout, "model tiny-demo")[0]).toMatch(/\sok\s/);
    expect(stdout).toMatch(/\n\nnot fit to serve: 3 failures, \d+ warnings?\n$/);
  });

  it("fails a model file whose SHA-256 differs from its manifest", async () => {
    const manifest = join(modelsDir, "tiny-demo.yaml");
    const text = await readFile(manifest, "utf8");
    await writeFile(manifest, text.replace(/^sha256: .*$/m, `sha256: ${"f".repeat(64)}`));
    const { code, check } = await runJson(["--data-dir", join(root, "data")]);
    expect(code).toBe(1);
    expect(check("model tiny-demo")).toMatchObject({
      status: "fail",
      detail: expect.stringMatching(/^SHA-256 is 5e01978c.*; the manifest expects f{64}$/),
      fix: expect.stringContaining("download it again"),
    });
  });

  it("fails a broken manifest and an unknown-tier or missing key the way start-up would refuse them", async () => {
    await writeFile(
      join(modelsDir, "typo.yaml"),
      "id: typo\nfile: t.gguf\ncontextSize: 1\nmemoryMb: 1\ncolour: red\n",
    );
    const { code, check } = await runJson(["--data-dir", join(root, "data"), "--host", "0.0.0.0"]);
    expect(code).toBe(1);
    expect(check("manifest typo.yaml")).toMatchObject({
      status: "fail",
      fix: expect.stringContaining("models/README.md"),
    });
    expect(check("api keys")).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("no API key, and server.host is 0.0.0.0"),
      fix: expect.stringContaining("edge-gateway keys create"),
    });
    const tier = await runJson(["--data-dir", join(root, "data")], { GATEWAY_API_KEYS: "sk-one:gold" });
    expect(tier.check("api keys")).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("tier 'gold'"),
    });
  });

  it("fails the policy core with the fix npm run build when build/core.wasm is missing", async () => {
    let stdout = "";
    const code = await runDoctor(["--data-dir", join(root, "data"), "--port", "0"], {
      env: { GATEWAY_MODELS__ENABLED: "false" },
      stdout: (text) => {
        stdout += text;
      },
      stderr: () => undefined,
      wasmPath: join(root, "build", "core.wasm"),
    });
    expect(code).toBe(1);
    expect(rowOf(stdout, "policy core")).toEqual([
      expect.stringMatching(/^policy core\s+fail\s+.*build\/core\.wasm is missing$/),
      "fix: npm run build (npm install runs it too)",
    ]);
  });

  it("warns about an MCP upstream that is away, never fails", async () => {
    const config = join(root, "gateway.yaml");
    await writeFile(
      config,
      [
        "mcp:",
        "  upstreams:",
        `    - { name: web, url: "http://127.0.0.1:${closedPort}/mcp" }`,
        "    - { name: gone, command: no-such-mcp-server-xyz }",
      ].join("\n"),
    );
    const { code, check } = await runJson(["--config", config, "--data-dir", join(root, "data")]);
    expect(code).toBe(0);
    expect(check("mcp web")).toMatchObject({
      status: "warn",
      fix: expect.stringContaining("mcp.upstreams[0].url"),
    });
    expect(check("mcp gone")).toMatchObject({
      status: "warn",
      detail: "no-such-mcp-server-xyz is not an executable file on the PATH",
      fix: expect.stringContaining("mcp.upstreams[1].command"),
    });
  });

  it("prints its usage for --help, and is listed in the CLI usage", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("edge-gateway doctor [--config <file>] [serve flags] [--json] [--no-hash]");
    let usage = "";
    const code = await runCli({
      argv: ["help"],
      env: {},
      stdout: (text) => {
        usage += text;
      },
      stderr: () => undefined,
    });
    expect(code).toBe(0);
    expect(usage).toContain("edge-gateway doctor [flags] [--json] [--no-hash]");
  });

  it("exits 2 on bad configuration or an unknown flag, as serve does", async () => {
    const bad = await run([], { GATEWAY_LOG_LEVEL: "loud" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^edge-gateway doctor: log\.level: expected one of .*\(from GATEWAY_LOG_LEVEL="loud"\)\n$/,
    );
    expect(bad.stdout).toBe("");
    const flag = await run(["--verbose"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("--verbose: unknown option");
    expect(flag.stdout).toBe("");
  });
});

describe("doctor checks of the machine", () => {
  const facts: SystemFacts = {
    nodeVersion: "22.11.0",
    arch: "arm64",
    cores: 4,
    totalMemoryBytes: 8 * 1024 ** 3,
    availableMemoryBytes: 1024 ** 3,
  };

  it("requires the Node.js version of package.json's engines", async () => {
    const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8"));
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_VERSION}`);
    expect(checkNode("20.18.1").status).toBe("ok");
    expect(checkNode("22.0.0").status).toBe("ok");
    expect(checkNode("20.18.0")).toMatchObject({ status: "fail", fix: expect.stringContaining("20.18.1") });
    expect(checkNode("18.20.4").status).toBe("fail");
  });

  it("accepts arm64 and x64, warns on 32-bit ARM", () => {
    expect(checkCpu("arm64", 4)).toEqual({ check: "cpu", status: "ok", detail: "arm64, 4 cores" });
    expect(checkCpu("x64", 1).detail).toBe("x64, 1 core");
    expect(checkCpu("arm", 4)).toMatchObject({ status: "warn", fix: expect.stringContaining("64-bit OS") });
  });

  it("warns when free memory is below the models' estimate plus the margin", () => {
    expect(checkMemory(facts, 500).status).toBe("ok");
    expect(checkMemory(facts, 900)).toMatchObject({
      status: "warn",
      detail: "1.00 GiB available of 8.00 GiB; models need ~900 MiB + 256 MiB margin",
      fix: expect.stringContaining("smaller quantisation"),
    });
  });
});
