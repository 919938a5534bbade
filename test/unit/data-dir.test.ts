import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { probeDataDir } from "../../host/data-dir.js";

describe("probeDataDir", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "gw-data-dir-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("creates a missing directory, including parents, and reports it writable", async () => {
    const dir = join(root, "a", "b");
    expect(await probeDataDir(dir)).toEqual({ writable: true });
    expect(await readdir(dir)).toEqual([]);
  });

  it("leaves no probe file behind when many checks run at once", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => probeDataDir(root)));
    expect(results.every((result) => result.writable)).toBe(true);
    expect(await readdir(root)).toEqual([]);
  });

  it("reports a path below a regular file as not writable, with the reason", async () => {
    const file = join(root, "file");
    await writeFile(file, "x");
    const status = await probeDataDir(join(file, "data"));
    expect(status.writable).toBe(false);
    expect(status.reason).toMatch(/ENOTDIR|EEXIST/);
  });
});
