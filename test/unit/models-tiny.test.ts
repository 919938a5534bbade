import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama, LlamaChatSession } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkGguf,
  ensureTinyModel,
  generateTinyModel,
  loadManifests,
  readGgufHeader,
  TINY_MODEL,
  TINY_MODEL_SHA256,
} from "../../host/models/index.js";
import { buildTinyModel } from "../../host/models/tiny-model.js";

const MODELS_DIR = fileURLToPath(new URL("../../models", import.meta.url));

describe("the tiny demo model", () => {
  let dir: string;
  let path: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tiny-model-"));
    path = join(dir, "nested", "tiny-demo.gguf");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is written byte for byte the same on every run, with the published SHA-256", async () => {
    const first = await generateTinyModel(path);
    const again = await generateTinyModel(join(dir, "again.gguf"));
    expect(first.sha256).toBe(TINY_MODEL_SHA256);
    expect(again.sha256).toBe(TINY_MODEL_SHA256);
    expect(first.bytes).toBe(437_600);
    expect(
      createHash("sha256")
        .update(await readFile(path))
        .digest("hex"),
    ).toBe(TINY_MODEL_SHA256);
    expect(createHash("sha256").update(buildTinyModel()).digest("hex")).toBe(TINY_MODEL_SHA256);
  });

  it("is regenerated on start-up only when missing or not byte-identical", async () => {
    const target = join(dir, "ensure", "tiny-demo.gguf");
    expect(await ensureTinyModel(target)).toMatchObject({ generated: true, sha256: TINY_MODEL_SHA256 });
    expect(await ensureTinyModel(target)).toMatchObject({ generated: false, bytes: 437_600 });
    await writeFile(target, "damaged");
    expect(await ensureTinyModel(target)).toMatchObject({ generated: true });
    expect(
      createHash("sha256")
        .update(await readFile(target))
        .digest("hex"),
    ).toBe(TINY_MODEL_SHA256);
  });

  it("matches its committed manifest (sha256, size, context)", async () => {
    const { manifests, errors } = await loadManifests(MODELS_DIR);
    expect(errors).toEqual([]);
    const tiny = manifests.find((m) => m.id === "tiny-demo");
    expect(tiny).toMatchObject({
      sha256: TINY_MODEL_SHA256,
      sizeBytes: 437_600,
      contextSize: TINY_MODEL.contextLength,
      threads: 1,
      gpuLayers: 0,
      aliases: ["tiny"],
    });
    expect(tiny?.filePath).toBe(join(MODELS_DIR, "tiny", "tiny-demo.gguf"));
    expect(tiny?.description).toMatch(/nonsense/i);
  });

  it("is a llama GGUF v3 with the hyper-parameters, vocabulary and label llama.cpp needs", async () => {
    const header = await readGgufHeader(path);
    const value = (key: string) => header.metadata.get(key)?.value;
    expect(header.version).toBe(3);
    expect(header.alignment).toBe(32);
    expect(header.dataOffsetBytes % 32).toBe(0);
    expect(value("general.architecture")).toBe("llama");
    expect(value("general.name")).toBe("tiny-demo (nonsense generator, not a real model)");
    expect(value("llama.embedding_length")).toBe(64);
    expect(value("llama.block_count")).toBe(2);
    expect(value("tokenizer.ggml.model")).toBe("llama");
    const tokens = value("tokenizer.ggml.tokens") as string[];
    expect(tokens).toHaveLength(260);
    expect(tokens.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
    expect(tokens).toContain("<0xFF>");
    expect(tokens).toContain("\u2581");
    expect(value("tokenizer.chat_template")).toContain("<|im_start|>");
    expect(header.tensors.map((t) => t.name)).toContain("blk.1.ffn_down.weight");
    expect(header.tensors.every((t) => t.offsetBytes % 32 === 0)).toBe(true);
    const check = await checkGguf(path, { expectedSha256: TINY_MODEL_SHA256, expectedSizeBytes: 437_600 });
    expect(check).toMatchObject({ ok: true, problems: [], sha256: TINY_MODEL_SHA256 });
  });

  it("loads in node-llama-cpp (prebuilt, CPU) and generates text in a chat session", async () => {
    const llama = await getLlama({ gpu: false, build: "never", skipDownload: true });
    try {
      const started = performance.now();
      const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
      const loadMs = performance.now() - started;
      const context = await model.createContext({ contextSize: 512, threads: 1, batchSize: 128 });
      const session = new LlamaChatSession({ contextSequence: context.getSequence() });
      let tokens = 0;
      const text = await session.prompt("Hello, who are you?", {
        maxTokens: 16,
        onToken: (chunk) => {
          tokens += chunk.length;
        },
      });
      expect(tokens).toBe(16);
      expect(text.length).toBeGreaterThan(0);
      // Printable ASCII by construction of the output layer, so logs and terminals stay clean.
      expect(text).toMatch(/^[\x20-\x7e]+$/);
      expect(loadMs).toBeLessThan(5_000);
      await context.dispose();
      await model.dispose();
    } finally {
      await llama.dispose();
    }
  });
});
