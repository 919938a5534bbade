import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { hasDeployedFlags, NODE_FLAGS } from "../../host/runtime.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

describe("the deployed node flags", () => {
  it("are what npm start and the installed edge-gateway command run with", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
      bin: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe(`node ${NODE_FLAGS.join(" ")} ${pkg.bin["edge-gateway"]} serve`);
    const install = readFileSync(join(REPO, "deployment/pi/install.sh"), "utf8");
    expect(install).toContain(
      `exec node ${NODE_FLAGS.join(" ")} \${PREFIX}/${pkg.bin["edge-gateway"]} "\\$@"`,
    );
  });

  it("are recognised on the command line or in NODE_OPTIONS, and only when all are given", () => {
    expect(hasDeployedFlags([...NODE_FLAGS], "")).toBe(true);
    expect(hasDeployedFlags([], NODE_FLAGS.join(" "))).toBe(true);
    expect(hasDeployedFlags([NODE_FLAGS[0]], "")).toBe(false);
    expect(hasDeployedFlags(["--enable-source-maps"], "--max-old-space-size=4096")).toBe(false);
  });

  it("bound a real node process's heap to the old space plus the two semi-spaces", () => {
    const limitMb = Number(
      execFileSync(
        process.execPath,
        [...NODE_FLAGS, "-e", "console.log(require('v8').getHeapStatistics().heap_size_limit / 2 ** 20)"],
        { encoding: "utf8" },
      ).trim(),
    );
    const flagMb = (name: string) =>
      Number(NODE_FLAGS.find((f) => f.startsWith(`--${name}=`))?.split("=")[1] ?? Number.NaN);
    // V8 counts the young generation as three semi-spaces (two plus the promotion buffer).
    expect(limitMb).toBe(flagMb("max-old-space-size") + 3 * flagMb("max-semi-space-size"));
  });
});
