import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { deploymentPath, findTool, type RunResult, run, skipWithout } from "./support.js";

const SCRIPT = deploymentPath("pi", "install.sh");
const scratch = mkdtempSync(join(tmpdir(), "gw-install-"));
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A directory of stand-in commands, put first on PATH. */
function shims(name: string, commands: Record<string, string>): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [command, body] of Object.entries(commands)) {
    writeFileSync(join(dir, command), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return dir;
}

// As root (CI), the dry run is done as `nobody`: it must work for anyone, and a stray write would
// fail. Only where nobody can read the checkout (a clone under /root, say) does it run as root.
const asNobody =
  process.getuid?.() === 0 &&
  findTool("runuser") !== undefined &&
  run("runuser", ["-u", "nobody", "--", "test", "-r", deploymentPath("systemd", "edge-gateway.service")])
    .status === 0;

function install(args: readonly string[], pathPrefix?: string): RunResult & { cwd: string } {
  const cwd = mkdtempSync(join(scratch, "cwd-"));
  chmodSync(cwd, 0o777);
  const path = pathPrefix === undefined ? process.env.PATH : `${pathPrefix}:${process.env.PATH}`;
  const env = { PATH: path ?? "/usr/bin:/bin", HOME: cwd, LANG: "C.UTF-8" };
  const command = asNobody ? "runuser" : "bash";
  const argv = asNobody
    ? ["-u", "nobody", "--", "env", `PATH=${env.PATH}`, `HOME=${cwd}`, "bash", SCRIPT, ...args]
    : [SCRIPT, ...args];
  return { ...run(command, argv, { cwd, env }), cwd };
}

describe("deployment/pi/install.sh", () => {
  it("is valid bash", () => {
    const res = run("bash", ["-n", SCRIPT]);
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
  });

  it.skipIf(skipWithout("shellcheck"))("passes shellcheck", () => {
    const res = run("shellcheck", ["--shell=bash", SCRIPT]);
    expect(res.stdout + res.stderr).toBe("");
    expect(res.status).toBe(0);
  });

  it("prints every step of an install with --dry-run, without root and without writing anything", () => {
    const res = install(["--dry-run"]);
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    const out = res.stdout;
    expect(out).toContain("==> dry run: nothing is changed");
    expect(out).toMatch(/==> architecture (aarch64|arm64|x86_64|armv7l)/);
    expect(out).toMatch(/==> Node\.js \d+\.\d+\.\d+/);
    for (const step of [
      "would run: env -C /opt/edge-gateway.new npm install --no-audit --no-fund",
      "would run: env -C /opt/edge-gateway.new npm prune --omit=dev --no-audit --no-fund",
      "would run: mv /opt/edge-gateway.new /opt/edge-gateway",
      "/etc/edge-gateway/edge-gateway.env",
      "/etc/edge-gateway/gateway.yaml",
      "would write: /usr/local/bin/edge-gateway",
      "deployment/systemd/edge-gateway.service /etc/systemd/system/edge-gateway.service",
      "==> done",
    ]) {
      expect(out, step).toContain(step);
    }
    expect(out).toMatch(/useradd --system --user-group .* edge-gateway|user edge-gateway exists/);
    expect(out).toMatch(/systemctl (enable|daemon-reload)|systemd is not running here/);
    if (asNobody) expect(out).toContain("not root: a real run needs sudo");
    expect(readdirSync(res.cwd)).toEqual([]);
    expect(existsSync("/opt/edge-gateway.new")).toBe(false);
  });

  it("adds the CUDA build and the GPU drop-in with --gpu cuda", () => {
    const bin = shims("cuda", { nvcc: 'echo "Cuda compilation tools"' });
    const res = install(["--dry-run", "--gpu", "cuda"], bin);
    expect(res.status).toBe(0);
    expect(res.stdout).toContain("npx --no node-llama-cpp source download --gpu cuda");
    expect(res.stdout).toContain(
      "deployment/jetson/gpu.conf /etc/systemd/system/edge-gateway.service.d/gpu.conf",
    );
  });

  it("refuses Node.js older than 20.18.1 and accepts 20.18.1", () => {
    const old = install(["--dry-run"], shims("node-old", { node: "echo v20.18.0" }));
    expect(old.status).toBe(1);
    expect(old.stderr).toContain("Node.js 20.18.0 is too old: edge-gateway needs >= 20.18.1");
    const minimum = install(["--dry-run"], shims("node-min", { node: "echo v20.18.1" }));
    expect(minimum.stderr).toBe("");
    expect(minimum.status).toBe(0);
  });

  it("refuses CPUs it does not support, and says which it does", () => {
    for (const arch of ["armv6l", "riscv64"]) {
      const res = install(["--dry-run"], shims(`uname-${arch}`, { uname: `echo ${arch}` }));
      expect(res.status, arch).toBe(1);
      expect(res.stderr, arch).toMatch(/is not supported/);
    }
    const pi32 = install(["--dry-run"], shims("uname-armv7l", { uname: "echo armv7l" }));
    expect(pi32.status).toBe(0);
    expect(pi32.stdout).toContain("32-bit Arm");
  });

  it("explains its options with --help and rejects unknown ones", () => {
    const help = install(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--dry-run");
    expect(help.stdout).toContain("aarch64");
    const bad = install(["--frobnicate"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("unknown option '--frobnicate'");
  });

  it("refuses a real run without root", () => {
    if (!asNobody && process.getuid?.() === 0) return;
    const res = install([]);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("run as root");
  });
});
