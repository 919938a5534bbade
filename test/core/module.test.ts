import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { wasmPath } from "./wasm.js";

const bytes = readFileSync(wasmPath);

/** Section ids of a wasm binary, read from its header: 2 is the Import section. */
function sectionIds(buf: Buffer): number[] {
  const ids: number[] = [];
  let at = 8; // magic + version
  while (at < buf.length) {
    const id = buf[at++] as number;
    let size = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = buf[at++] as number;
      size |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    ids.push(id);
    at += size;
  }
  return ids;
}

describe("the built policy module", () => {
  it("has no Import section and no imports", () => {
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("\0asm");
    expect(sectionIds(bytes)).not.toContain(2);
    expect(WebAssembly.Module.imports(new WebAssembly.Module(bytes))).toEqual([]);
  });

  it("is at most 16 KB", () => {
    expect(bytes.length).toBeLessThanOrEqual(16 * 1024);
  });

  it("passes its selftest under wasm-interp, a runtime that is not V8", () => {
    const run = spawnSync("wasm-interp", [wasmPath, "--run-all-exports"], { encoding: "utf8" });
    if (run.error) throw new Error(`wasm-interp is needed (Debian package wabt): ${run.error.message}`);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^selftest\(\) => i32:0$/m);
  });

  it("exports exactly the functions assembly/README.md documents", () => {
    const readme = readFileSync(new URL("../../assembly/README.md", import.meta.url), "utf8");
    const documented = [...readme.matchAll(/^\| `(\w+)\(/gm)].map((m) => m[1]).sort();
    const exported = WebAssembly.Module.exports(new WebAssembly.Module(bytes))
      .filter((e) => e.kind === "function")
      .map((e) => e.name)
      .sort();
    expect(documented).toEqual(exported);
  });
});
