import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { specializedChatWrapperTypeNames } from "node-llama-cpp";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CHAT_WRAPPER_NAMES,
  chatTemplateKind,
  formatManifest,
  formatManifestError,
  loadManifests,
  modelManifestSchema,
  parseManifest,
} from "../../host/models/index.js";
import { type TempDir, tempDir } from "./models-gguf-fixtures.js";

const MODELS_DIR = fileURLToPath(new URL("../../models", import.meta.url));
const MINIMAL = "id: small\nfile: small.gguf\ncontextSize: 2048\nmemoryMb: 900\n";

describe("modelManifestSchema", () => {
  it("fills every default explicitly, threads included (min(4, cores))", () => {
    const manifest = modelManifestSchema.parse({ id: "m", file: "m.gguf", contextSize: 512, memoryMb: 10 });
    expect(manifest).toEqual({
      id: "m",
      aliases: [],
      file: "m.gguf",
      contextSize: 512,
      threads: Math.min(4, availableParallelism()),
      gpuLayers: 0,
      batchSize: 512,
      taskClasses: ["chat"],
      memoryMb: 10,
      sequences: 1,
    });
  });

  it("accepts a chat wrapper name or a Jinja template as the chat template, nothing else", () => {
    expect(chatTemplateKind("chatML")).toBe("wrapper");
    expect(chatTemplateKind("{% for m in messages %}{{ m.content }}{% endfor %}")).toBe("jinja");
    expect(chatTemplateKind("chatml please")).toBeUndefined();
  });

  it("lists the same chat wrappers as the installed node-llama-cpp", () => {
    expect([...CHAT_WRAPPER_NAMES]).toEqual([...specializedChatWrapperTypeNames]);
  });

  it('lowercases the SHA-256 and accepts gpuLayers "max"', () => {
    const parsed = modelManifestSchema.parse({
      id: "m",
      file: "m.gguf",
      contextSize: 512,
      memoryMb: 10,
      sha256: "AB".repeat(32),
      gpuLayers: "max",
    });
    expect(parsed.sha256).toBe("ab".repeat(32));
    expect(parsed.gpuLayers).toBe("max");
  });
});

describe("parseManifest", () => {
  it("resolves the file against the manifest's directory and keeps absolute paths", () => {
    const relative = parseManifest(MINIMAL, "/srv/models/small.yaml");
    expect(relative).toMatchObject({
      manifest: { filePath: "/srv/models/small.gguf", manifestPath: "/srv/models/small.yaml" },
    });
    const absolute = parseManifest(MINIMAL.replace("small.gguf", "/data/x.gguf"), "/srv/models/small.yaml");
    expect(absolute).toMatchObject({ manifest: { filePath: "/data/x.gguf" } });
  });

  it("names the file and the key of every bad value, and unknown keys", () => {
    const result = parseManifest(
      "id: small\nfile: small.gguf\ncontextSize: -1\nmemoryMb: 9\ntaskClasses: [chat, poetry]\nthreds: 2\n",
      "/m/small.yaml",
    );
    expect("errors" in result && result.errors.map(formatManifestError)).toEqual([
      "/m/small.yaml: contextSize: expected the context size in tokens, e.g. 4096",
      "/m/small.yaml: taskClasses.1: expected one of chat, code, math, reasoning, creative",
      "/m/small.yaml: threds: unknown key; see models/README.md for the fields",
    ]);
  });

  it("reports YAML and JSON syntax errors with the file", () => {
    const yaml = parseManifest("id: [unclosed\n", "/m/a.yaml");
    expect("errors" in yaml && yaml.errors[0]?.message).toMatch(/^invalid YAML/);
    const json = parseManifest("{ nope", "/m/a.json");
    expect("errors" in json && json.errors[0]?.message).toMatch(/^invalid JSON/);
  });
});

describe("loadManifests", () => {
  let dir: TempDir;
  beforeEach(async () => {
    dir = await tempDir("models-manifest-");
  });
  afterEach(() => dir.remove());

  it("reads YAML and JSON manifests in name order, not subdirectories or other files", async () => {
    await writeFile(join(dir.path, "b.yaml"), MINIMAL.replace("id: small", "id: bee"));
    await writeFile(
      join(dir.path, "a.json"),
      JSON.stringify({ id: "ant", file: "a.gguf", contextSize: 1, memoryMb: 1 }),
    );
    await writeFile(join(dir.path, "notes.txt"), "not a manifest");
    await mkdir(join(dir.path, "examples"));
    await writeFile(join(dir.path, "examples", "c.yaml"), MINIMAL);
    const { manifests, errors } = await loadManifests(dir.path);
    expect(errors).toEqual([]);
    expect(manifests.map((m) => m.id)).toEqual(["ant", "bee"]);
  });

  it("skips a broken manifest and one whose id or alias is taken, keeping the others", async () => {
    await writeFile(join(dir.path, "a.yaml"), `${MINIMAL}aliases: [tiny]\n`);
    await writeFile(
      join(dir.path, "b.yaml"),
      MINIMAL.replace("id: small", "id: other").concat("aliases: [tiny]\n"),
    );
    await writeFile(join(dir.path, "c.yaml"), "id: broken\nfile: x.gguf\n");
    await writeFile(join(dir.path, "d.yaml"), MINIMAL.replace("id: small", "id: fine"));
    const { manifests, errors } = await loadManifests(dir.path);
    expect(manifests.map((m) => m.id)).toEqual(["small", "fine"]);
    expect(errors.map(formatManifestError)).toEqual([
      `${join(dir.path, "b.yaml")}: aliases.0: "tiny" is already used by a.yaml; manifest skipped`,
      `${join(dir.path, "c.yaml")}: contextSize: expected the context size in tokens, e.g. 4096`,
      `${join(dir.path, "c.yaml")}: memoryMb: expected an estimate of the memory the loaded model needs, in MB`,
    ]);
  });

  it("reports a missing directory instead of throwing", async () => {
    const { manifests, errors } = await loadManifests(join(dir.path, "nope"));
    expect(manifests).toEqual([]);
    expect(errors[0]?.message).toBe("models directory not found");
  });

  it("writes manifests that read back the same", async () => {
    const manifest = modelManifestSchema.parse({
      id: "m",
      aliases: ["a"],
      file: "m.gguf",
      contextSize: 512,
      memoryMb: 10,
      taskClasses: ["chat", "code"],
      description: "a: colon",
    });
    const text = formatManifest(manifest, ["a comment"]);
    expect(text).toMatch(/^# a comment\nid: m\naliases: \[a\]\n/);
    const parsed = parseManifest(text, join(dir.path, "m.yaml"));
    expect("manifest" in parsed && parsed.manifest).toMatchObject(manifest);
  });
});

describe("the committed manifests", () => {
  it("are all valid: models/ and models/examples/", async () => {
    for (const sub of ["", "examples"]) {
      const { manifests, errors } = await loadManifests(join(MODELS_DIR, sub));
      expect(errors, sub).toEqual([]);
      expect(manifests.length, sub).toBeGreaterThan(0);
    }
  });

  it("give each example's published size, a fetch-by-hand URL and no SHA-256 yet", async () => {
    const examples = join(MODELS_DIR, "examples");
    const { manifests } = await loadManifests(examples);
    expect(manifests.map((m) => [m.id, m.sizeBytes])).toEqual([
      ["llama-3.2-1b", 807_694_464],
      ["phi-3.5-mini", 2_393_232_672],
      ["qwen2.5-0.5b", 397_808_192],
    ]);
    for (const name of await readdir(examples)) {
      const text = await readFile(join(examples, name), "utf8");
      expect(text, name).toMatch(/^# {3}https:\/\/huggingface\.co\/.+\/resolve\/main\/.+\.gguf$/m);
      expect(text, name).toMatch(/^# sha256: to be filled by `edge-gateway models add`/m);
    }
    expect(manifests.every((m) => m.sha256 === undefined)).toBe(true);
  });

  it("are documented field for field in models/README.md", async () => {
    const readme = await readFile(join(MODELS_DIR, "README.md"), "utf8");
    const documented = [...readme.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(modelManifestSchema.shape).sort());
  });
});
