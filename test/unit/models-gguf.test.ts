import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeGguf } from "../../host/models/gguf-writer.js";
import {
  assertLoadableGguf,
  checkGguf,
  GgufCheckError,
  type GgufProblem,
  readGgufHeader,
  TINY_MODEL_SHA256,
} from "../../host/models/index.js";
import {
  patchU32,
  replacingKey,
  type TempDir,
  tempDir,
  tinyBytes,
  tinyVariant,
  withoutKey,
} from "./models-gguf-fixtures.js";

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir("models-gguf-");
});
afterAll(() => dir.remove());

const errorsOf = (problems: readonly GgufProblem[]) => problems.filter((p) => p.severity === "error");

async function refusal(name: string, data: Uint8Array) {
  const check = await checkGguf(await dir.write(name, data));
  expect(check.ok).toBe(false);
  return errorsOf(check.problems);
}

describe("readGgufHeader", () => {
  it("reads every metadata value type, arrays included, from v3 and v2 files", async () => {
    const metadata = [
      { key: "u8", type: "uint8", value: 255 },
      { key: "i8", type: "int8", value: -128 },
      { key: "u16", type: "uint16", value: 65_535 },
      { key: "i16", type: "int16", value: -32_768 },
      { key: "u32", type: "uint32", value: 4_294_967_295 },
      { key: "i32", type: "int32", value: -2_147_483_648 },
      { key: "f32", type: "float32", value: 0.5 },
      { key: "bool", type: "bool", value: true },
      { key: "str", type: "string", value: "héllo ▁" },
      { key: "u64", type: "uint64", value: 18_446_744_073_709_551_615n },
      { key: "i64", type: "int64", value: -5 },
      { key: "f64", type: "float64", value: 1e-300 },
      { key: "strings", type: "array", itemType: "string", value: ["a", "", "ü"] },
      { key: "ints", type: "array", itemType: "int32", value: [1, -2, 3] },
      { key: "empty", type: "array", itemType: "float32", value: [] },
    ] as const;
    for (const version of [2, 3]) {
      const header = await readGgufHeader(
        await dir.write(`types-v${version}.gguf`, encodeGguf({ version, metadata, tensors: [] })),
      );
      expect(header.version).toBe(version);
      expect(header.tensors).toEqual([]);
      for (const entry of metadata) {
        expect(header.metadata.get(entry.key), entry.key).toEqual(
          entry.type === "array"
            ? { type: "array", itemType: entry.itemType, value: entry.value }
            : { type: entry.type, value: entry.value },
        );
      }
    }
  });

  it("reads only the header: the tensor table of a file whose data is missing is still returned", async () => {
    const bytes = tinyBytes();
    const header = await readGgufHeader(await dir.write("header-only.gguf", bytes.subarray(0, 9_000)));
    expect(header.tensors).toHaveLength(21);
    expect(header.dataOffsetBytes).toBeLessThan(9_000);
  });
});

describe("checkGguf", () => {
  it("accepts the tiny model and verifies its SHA-256 while reporting progress to the end", async () => {
    const path = await dir.write("tiny.gguf", tinyBytes());
    const progress: number[] = [];
    const check = await checkGguf(path, {
      expectedSha256: TINY_MODEL_SHA256.toUpperCase(),
      onProgress: ({ doneBytes, totalBytes }) => progress.push(doneBytes / totalBytes),
    });
    expect(check).toMatchObject({ ok: true, problems: [], sha256: TINY_MODEL_SHA256 });
    expect(progress.at(0)).toBe(0);
    expect(progress.at(-1)).toBe(1);
  });

  it("refuses a wrong SHA-256, naming both hashes", async () => {
    const path = await dir.write("tiny-sha.gguf", tinyBytes());
    const check = await checkGguf(path, { expectedSha256: "0".repeat(64) });
    expect(check.ok).toBe(false);
    expect(errorsOf(check.problems)).toEqual([
      expect.objectContaining({
        code: "sha256-mismatch",
        message: expect.stringContaining(TINY_MODEL_SHA256),
      }),
    ]);
  });

  it("refuses a file of the wrong size without hashing it", async () => {
    let hashed = false;
    const path = await dir.write("tiny-size.gguf", tinyBytes());
    const check = await checkGguf(path, {
      expectedSizeBytes: 1,
      expectedSha256: TINY_MODEL_SHA256,
      onProgress: () => {
        hashed = true;
      },
    });
    expect(errorsOf(check.problems).map((p) => p.code)).toEqual(["size-mismatch"]);
    expect(check.sha256).toBeUndefined();
    expect(hashed).toBe(false);
  });

  it("refuses a file that is not GGUF, or too short to be one", async () => {
    expect(
      await refusal("magic.gguf", Buffer.concat([Buffer.from("GGUX"), tinyBytes().subarray(4)])),
    ).toEqual([
      { code: "bad-magic", severity: "error", message: 'not a GGUF file: it starts with "GGUX", not "GGUF"' },
    ]);
    expect((await refusal("short.gguf", Buffer.from("GG")))[0]?.code).toBe("truncated");
    const missing = await checkGguf(`${dir.path}/does-not-exist.gguf`);
    expect(missing.problems).toEqual([{ code: "unreadable", severity: "error", message: "file not found" }]);
  });

  it("refuses GGUF v1 and versions newer than llama.cpp reads, and says why", async () => {
    const v1 = await refusal("v1.gguf", patchU32(tinyBytes(), 4, 1));
    expect(v1[0]).toMatchObject({
      code: "unsupported-version",
      message: expect.stringMatching(/version 1 is no longer/),
    });
    const v4 = await refusal("v4.gguf", patchU32(tinyBytes(), 4, 4));
    expect(v4[0]).toMatchObject({
      code: "unsupported-version",
      message: expect.stringMatching(/upgrade node-llama-cpp/),
    });
    const swapped = await refusal("endian.gguf", patchU32(tinyBytes(), 4, 0x03000000));
    expect(swapped[0]?.message).toMatch(/big-endian/);
    expect((await checkGguf(await dir.write("v2.gguf", patchU32(tinyBytes(), 4, 2)))).ok).toBe(true);
  });

  it("refuses a truncated file: inside the header, and inside the tensor data, naming the tensor", async () => {
    const bytes = tinyBytes();
    const inHeader = await refusal("cut-header.gguf", bytes.subarray(0, 200));
    expect(inHeader[0]).toMatchObject({
      code: "truncated",
      message: expect.stringMatching(/incomplete download/),
    });
    const inData = await refusal("cut-data.gguf", bytes.subarray(0, bytes.length - 1_000));
    expect(inData).toEqual([
      expect.objectContaining({
        code: "truncated",
        message: expect.stringMatching(
          /tensor "blk\.1\.ffn_down\.weight" ends at byte 437600 but the file has 436600/,
        ),
      }),
    ]);
  });

  it("refuses missing architecture, hyper-parameter and tokenizer keys, naming each key", async () => {
    const noArch = await refusal("no-arch.gguf", withoutKey("general.architecture"));
    expect(noArch[0]).toMatchObject({
      code: "missing-key",
      message: expect.stringContaining('"general.architecture"'),
    });
    for (const key of [
      "llama.context_length",
      "llama.attention.layer_norm_rms_epsilon",
      "tokenizer.ggml.model",
    ]) {
      const problems = await refusal(`no-${key}.gguf`, withoutKey(key));
      expect(problems, key).toEqual([
        expect.objectContaining({ code: "missing-key", message: expect.stringContaining(`"${key}"`) }),
      ]);
    }
    const noTokens = await refusal("no-tokens.gguf", withoutKey("tokenizer.ggml.tokens"));
    expect(noTokens.map((p) => p.message)).toContainEqual(
      expect.stringMatching(/tokenizer\.ggml\.tokens.*no vocabulary/),
    );
  });

  it("refuses hyper-parameters of a type llama.cpp does not accept", async () => {
    const problems = await refusal(
      "ctx-int32.gguf",
      replacingKey("llama.context_length", (e) => ({ ...e, type: "int32" }) as typeof e),
    );
    expect(problems).toEqual([
      expect.objectContaining({
        code: "wrong-type",
        message: 'metadata "llama.context_length" is int32; llama.cpp requires uint32',
      }),
    ]);
  });

  it("refuses a SentencePiece vocabulary missing a byte token (llama.cpp aborts the process on it)", async () => {
    const problems = await refusal(
      "no-byte.gguf",
      tinyVariant((p) => ({
        ...p,
        metadata: p.metadata.map((e) =>
          e.key === "tokenizer.ggml.tokens" && e.type === "array"
            ? { ...e, value: e.value.map((t) => (t === "<0x41>" ? "<0x41>x" : t)) }
            : e,
        ),
      })),
    );
    expect(problems.map((p) => p.message)).toContainEqual(
      expect.stringMatching(/lacks 1 byte tokens \(<0x41>\)/),
    );
  });

  it("refuses a missing or mis-shaped llama tensor and a wrong RoPE dimension", async () => {
    const missing = await refusal(
      "no-tensor.gguf",
      tinyVariant((p) => ({ ...p, tensors: p.tensors.filter((t) => t.name !== "blk.1.ffn_up.weight") })),
    );
    expect(missing).toEqual([
      { code: "missing-tensor", severity: "error", message: 'tensor "blk.1.ffn_up.weight" is missing' },
    ]);
    const shape = await refusal(
      "shape.gguf",
      tinyVariant((p) => ({
        ...p,
        tensors: p.tensors.map((t) => (t.name === "blk.0.attn_k.weight" ? { ...t, dims: [32, 64] } : t)),
      })),
    );
    expect(shape[0]?.message).toBe('tensor "blk.0.attn_k.weight" has shape [32, 64]; expected [64, 32]');
    const rope = await refusal(
      "rope.gguf",
      replacingKey("llama.rope.dimension_count", (e) => ({ ...e, value: 8 }) as typeof e),
    );
    expect(rope[0]?.code).toBe("bad-value");
  });

  it("refuses duplicate keys, a bad alignment, an unknown tensor type and out-of-order offsets", async () => {
    const duplicate = await refusal(
      "dup.gguf",
      tinyVariant((p) => ({
        ...p,
        metadata: [...p.metadata, { key: "general.name", type: "string", value: "again" }],
      })),
    );
    expect(duplicate.map((p) => p.code)).toContain("duplicate-key");
    const alignment = await refusal(
      "align.gguf",
      replacingKey("general.alignment", (e) => ({ ...e, value: 48 }) as typeof e),
    );
    expect(alignment.map((p) => p.code)).toContain("bad-alignment");
    const bytes = Buffer.from(
      encodeGguf({
        metadata: [{ key: "general.architecture", type: "string", value: "llama" }],
        tensors: [{ name: "only.weight", dims: [8], type: 0, data: new Uint8Array(32) }],
      }),
    );
    // Tensor info: name (u64 length + bytes), dimension count (u32), one u64 dimension, type (u32), offset (u64).
    const typeAt = bytes.indexOf("only.weight") + "only.weight".length + 4 + 8;
    const badType = await refusal("type.gguf", patchU32(bytes, typeAt, 4));
    expect(badType.map((p) => p.message)).toContainEqual(
      expect.stringMatching(/ggml type 4, which the bundled llama.cpp does not know/),
    );
    const badOffset = await refusal("offset.gguf", patchU32(bytes, typeAt + 4, 32));
    expect(badOffset.map((p) => p.code)).toContain("tensor-offset");
  });

  it("assertLoadableGguf throws one error listing every problem after the path", async () => {
    const path = await dir.write("assert.gguf", withoutKey("llama.block_count"));
    const failure = await assertLoadableGguf(path).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GgufCheckError);
    expect((failure as GgufCheckError).message).toMatch(
      /assert\.gguf cannot be loaded:\n {2}metadata "llama\.block_count" is missing/,
    );
    await expect(assertLoadableGguf(await dir.write("fine.gguf", tinyBytes()))).resolves.toMatchObject({
      ok: true,
    });
  });
});
