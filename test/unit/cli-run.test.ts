import { describe, expect, it } from "vitest";
import { runCli } from "../../host/cli-run.js";

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli({
    argv,
    env,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

describe("runCli", () => {
  it.each([["help"], ["--help"], ["-h"], ["serve", "--help"]])(
    "prints usage for %j and exits 0",
    async (...argv) => {
      const { code, stdout } = await run(argv);
      expect(code).toBe(0);
      expect(stdout).toContain("Usage:");
      expect(stdout).toContain("GATEWAY_PORT");
    },
  );

  it("prints the package version for --version", async () => {
    const { code, stdout } = await run(["--version"]);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("exits 2 for an unknown command", async () => {
    const { code, stderr } = await run(["srve"]);
    expect(code).toBe(2);
    expect(stderr).toBe('edge-gateway: unknown command "srve"; see edge-gateway --help\n');
  });

  it("exits 2 with one prefixed line per configuration problem and no stack trace", async () => {
    const { code, stderr } = await run(["serve", "--log-level", "loud"], { GATEWAY_PORT: "abc" });
    expect(code).toBe(2);
    expect(stderr.trimEnd().split("\n")).toEqual([
      'edge-gateway: server.port: expected an integer between 0 and 65535 (from GATEWAY_PORT="abc")',
      expect.stringMatching(/^edge-gateway: log\.level: expected one of .* \(from --log-level="loud"\)$/),
    ]);
  });

  it("treats flags without a command as serve flags", async () => {
    const { code, stderr } = await run(["--port", "-1"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^edge-gateway: --port: expected a value/);
  });
});
