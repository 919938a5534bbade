import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runModels } from "../../host/cli-models.js";
import { createProgress, TINY_MODEL_SHA256 } from "../../host/models/index.js";
import { type TempDir, tempDir, tinyBytes, withoutKey } from "./models-gguf-fixtures.js";

let dir: TempDir;
beforeEach(async () => {
  dir = await tempDir("models-cli-");
});
afterEach(() => dir.remove());

async function run(argv: string[], { tty = false } = {}) {
  let out = "";
  let err = "";
  const code = await runModels(argv, {
    env: {},
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    stderrIsTTY: tty,
  });
  return { code, out, err };
}

describe("edge-gateway models add", () => {
  it("reads the header, hashes the file and writes <id>.yaml with the file relative to the directory", async () => {
    await dir.write("Tiny-Copy.gguf", tinyBytes());
    const { code, out, err } = await run([
      "add",
      join(dir.path, "Tiny-Copy.gguf"),
      "--dir",
      dir.path,
      "--alias",
      "tc",
    ]);
    expect(code).toBe(0);
    expect(out).toContain(`added tiny-copy: ${join(dir.path, "tiny-copy.yaml")}`);
    expect(err).toMatch(/hashing tiny-copy: 100% of 427\.3 KB/);
    const text = await readFile(join(dir.path, "tiny-copy.yaml"), "utf8");
    expect(text).toContain("file: Tiny-Copy.gguf\n");
    expect(text).toContain(`sha256: ${TINY_MODEL_SHA256}\n`);
    expect(text).toContain("contextSize: 512\n");
    expect(text).toContain("sizeBytes: 437600\n");
    expect(text).toContain("aliases: [tc]\n");
    expect(text).toMatch(/^memoryMb: \d+$/m);
  });

  it("refuses to overwrite a manifest without --force, or to reuse an id or alias", async () => {
    const file = await dir.write("m.gguf", tinyBytes());
    expect((await run(["add", file, "--dir", dir.path, "--id", "m"])).code).toBe(0);
    const again = await run(["add", file, "--dir", dir.path, "--id", "m"]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/exists; pass --force/);
    expect((await run(["add", file, "--dir", dir.path, "--id", "m", "--force"])).code).toBe(0);
    const clash = await run(["add", file, "--dir", dir.path, "--id", "other", "--alias", "m"]);
    expect(clash.code).toBe(1);
    expect(clash.err).toMatch(/already used by/);
  });

  it("refuses a file llama.cpp would not load, listing the problems, and writes nothing", async () => {
    const file = await dir.write("broken.gguf", withoutKey("llama.embedding_length"));
    const { code, err } = await run(["add", file, "--dir", dir.path]);
    expect(code).toBe(1);
    expect(err).toMatch(
      /cannot be loaded by llama\.cpp:\n {2}error: metadata "llama\.embedding_length" is missing/,
    );
    expect((await readdir(dir.path)).filter((name) => name.endsWith(".yaml"))).toEqual([]);
  });

  it("caps the context at --context and rejects bad flags with exit code 2", async () => {
    const file = await dir.write("m.gguf", tinyBytes());
    expect((await run(["add", file, "--dir", dir.path, "--context", "256"])).out).toContain(
      "contextSize: 256\n",
    );
    expect((await run(["add", file, "--dir", dir.path, "--context", "lots"])).code).toBe(2);
    expect((await run(["add", file, "--dir", dir.path, "--task-classes", "chat,poetry"])).code).toBe(2);
    expect((await run(["add", "--dir", dir.path])).code).toBe(2);
    expect((await run(["add", file, "--bogus"])).code).toBe(2);
  });
});

describe("edge-gateway models ls, verify and rm", () => {
  beforeEach(async () => {
    await dir.write("m.gguf", tinyBytes());
    await run(["add", join(dir.path, "m.gguf"), "--dir", dir.path, "--id", "m", "--alias", "mini"]);
  });

  it("ls lists id and aliases, file, size, context and whether a SHA-256 is set", async () => {
    await writeFile(join(dir.path, "gone.yaml"), "id: gone\nfile: gone.gguf\ncontextSize: 64\nmemoryMb: 1\n");
    const { code, out } = await run(["ls", "--dir", dir.path]);
    expect(code).toBe(0);
    expect(out.split("\n")).toEqual([
      "ID       FILE       SIZE      CONTEXT  SHA256",
      "gone     gone.gguf  missing   64       not set",
      "m, mini  m.gguf     427.3 KB  512      set",
      "",
    ]);
  });

  it("ls reports a broken manifest on stderr with exit code 1, still listing the rest", async () => {
    await writeFile(join(dir.path, "bad.yaml"), "id: bad\n");
    const { code, out, err } = await run(["ls", "--dir", dir.path]);
    expect(code).toBe(1);
    expect(err).toContain(`${join(dir.path, "bad.yaml")}: file: expected the GGUF file's path`);
    expect(out).toContain("m, mini");
  });

  it("verify passes an intact file and fails a modified one, with progress lines when not a TTY", async () => {
    const ok = await run(["verify", "--dir", dir.path]);
    expect(ok).toMatchObject({ code: 0, out: "m: ok\n" });
    expect(ok.err.split("\n").filter(Boolean)).toEqual([
      "verify m: 0% of 427.3 KB",
      "verify m: 100% of 427.3 KB",
    ]);
    const bytes = tinyBytes();
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    await dir.write("m.gguf", bytes);
    const failed = await run(["verify", "mini", "--dir", dir.path]);
    expect(failed.code).toBe(1);
    expect(failed.out).toMatch(
      /^m: FAILED .*m\.gguf\n {2}error: SHA-256 is [0-9a-f]{64}; the manifest expects 5e01978c/,
    );
    expect((await run(["verify", "nope", "--dir", dir.path])).code).toBe(1);
  });

  it("verify draws a bar in place on a TTY", async () => {
    const { err } = await run(["verify", "m", "--dir", dir.path], { tty: true });
    expect(err).toMatch(/\rverify m \[#{30}\] 100% 427\.3 KB\/427\.3 KB\n$/);
  });

  it("rm removes the manifest and keeps the file unless --delete-file", async () => {
    const kept = await run(["rm", "m", "--dir", dir.path]);
    expect(kept.code).toBe(0);
    expect(await readdir(dir.path)).toEqual(["m.gguf"]);
    await run(["add", join(dir.path, "m.gguf"), "--dir", dir.path, "--id", "m"]);
    const deleted = await run(["rm", "m", "--dir", dir.path, "--delete-file"]);
    expect(deleted.out).toContain(`deleted ${join(dir.path, "m.gguf")}`);
    expect(await readdir(dir.path)).toEqual([]);
    expect((await run(["rm", "m", "--dir", dir.path])).code).toBe(1);
  });

  it("prints usage for help and exit code 2 for an unknown command", async () => {
    expect((await run([])).out).toMatch(/^Usage:\n {2}edge-gateway models ls/);
    expect((await run(["frobnicate"])).code).toBe(2);
  });
});

describe("createProgress", () => {
  it("redraws at most every 100 ms on a TTY but always draws the end", () => {
    let now = 0;
    const writes: string[] = [];
    const progress = createProgress({
      label: "x",
      write: (t) => writes.push(t),
      isTTY: true,
      now: () => now,
      width: 4,
    });
    progress.update({ doneBytes: 0, totalBytes: 4 });
    now = 50;
    progress.update({ doneBytes: 2, totalBytes: 4 });
    now = 60;
    progress.update({ doneBytes: 4, totalBytes: 4 });
    progress.done();
    expect(writes).toEqual(["\rx [----]   0% 0 B/4 B", "\rx [####] 100% 4 B/4 B", "\n"]);
  });
});
