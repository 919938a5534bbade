import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CliProcess, spawnCli } from "./cli-process.js";

describe("edge-gateway CLI as a child process", () => {
  let root: string;
  let cli: CliProcess | undefined;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "gw-cli-"));
  });
  afterEach(async () => {
    if (cli !== undefined && cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill("SIGKILL");
      await cli.exited();
    }
    cli = undefined;
    await rm(root, { recursive: true, force: true });
  });

  it("serves on the port it logs and exits 0 after SIGTERM", async () => {
    cli = spawnCli(["serve", "--port", "0"], { GATEWAY_DATA_DIR: join(root, "data") });
    const listening = await cli.waitForLine((line) => line.msg === "listening");
    const url = String(listening.url);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Started as deployed: 128 MB of old space plus three 8 MB semi-spaces.
    expect(listening).toMatchObject({ deployedNodeFlags: true, heapLimitMb: 152 });

    expect((await fetch(`${url}/health`)).status).toBe(200);
    await cli.waitForLine((line) => line.msg === "policy core loaded");
    expect((await fetch(`${url}/ready`)).status).toBe(200);

    cli.child.kill("SIGTERM");
    expect(await cli.exited()).toBe(0);
    expect(cli.lines).toContainEqual(expect.objectContaining({ msg: "shutting down", signal: "SIGTERM" }));
    expect(cli.lines).toContainEqual(expect.objectContaining({ msg: "stopped" }));
  });

  it("exits 2 naming server.port, without a stack trace, for GATEWAY_PORT=abc", async () => {
    // No --port here: the flag would take precedence over the variable under test.
    cli = spawnCli(["serve"], { GATEWAY_DATA_DIR: join(root, "data"), GATEWAY_PORT: "abc" });
    expect(await cli.exited()).toBe(2);
    expect(cli.stderr()).toBe(
      'edge-gateway: server.port: expected an integer between 0 and 65535 (from GATEWAY_PORT="abc")\n',
    );
    expect(cli.lines).toEqual([]);
  });
});
