import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { GGML_TYPE_F32, TOKEN_TYPE } from "./gguf-format.js";
import { encodeGguf, type GgufEntry, type GgufInput, type GgufTensorInput } from "./gguf-writer.js";

/**
 * The tiny demo model: a llama-architecture GGUF the project writes itself, so the gateway runs end
 * to end on a machine that has never downloaded a model. Its weights are random (fixed seed), so
 * it produces nonsense. The output matrix is biased towards printable ASCII so the nonsense is at
 * least readable: every embedding carries a large constant in dimension 0, which survives the
 * small random layers, and each token's output row scores that dimension +1 (printable) or -1.
 * `</s>` scores -1 too, so generation runs until max_tokens or the context is full.
 */
export const TINY_MODEL = {
  name: "tiny-demo (nonsense generator, not a real model)",
  contextLength: 512,
  embeddingLength: 64,
  blockCount: 2,
  feedForwardLength: 128,
  headCount: 4,
  headCountKv: 2,
  rmsEpsilon: 1e-5,
  ropeFreqBase: 10_000,
  seed: 0x5eed_1e55,
} as const;

/** The SHA-256 of the file generateTinyModel writes; the same on every machine and every run. */
export const TINY_MODEL_SHA256 = "5e01978c4dc6aaee7984ee2155c7dd91f9b51049c9858ca465946ec318cce869";

/** ChatML, which node-llama-cpp recognises; the markers are plain bytes to this vocabulary. */
const CHAT_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const SPACE_PIECE = "\u2581";
const BYTE_TOKEN_BASE = 3;

interface Vocabulary {
  tokens: string[];
  types: number[];
  scores: number[];
}

/** SentencePiece layout: `<unk>` `<s>` `</s>`, the 256 byte tokens, then the space piece. */
function buildVocabulary(): Vocabulary {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TOKEN_TYPE.byte);
  }
  tokens.push(SPACE_PIECE);
  types.push(TOKEN_TYPE.normal);
  return { tokens, types, scores: tokens.map(() => 0) };
}

/** mulberry32: small, fast, and integer-only, so every platform draws the same sequence. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function f32(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return bytes;
}

function isPrintable(token: number): boolean {
  if (token === BYTE_TOKEN_BASE + 256) return true;
  const byte = token - BYTE_TOKEN_BASE;
  return byte >= 0x20 && byte < 0x7f;
}

function buildTensors(vocabularySize: number): GgufTensorInput[] {
  const m = TINY_MODEL;
  const random = createRandom(m.seed);
  const uniform = (count: number, scale: number) =>
    Float32Array.from({ length: count }, () => (random() * 2 - 1) * scale);
  const ones = (count: number) => new Float32Array(count).fill(1);
  const tensor = (name: string, dims: number[], values: Float32Array): GgufTensorInput => ({
    name,
    dims,
    type: GGML_TYPE_F32,
    data: f32(values),
  });
  const embd = m.embeddingLength;
  const headDim = embd / m.headCount;
  const kvDim = headDim * m.headCountKv;
  const ff = m.feedForwardLength;

  const embeddings = uniform(embd * vocabularySize, 0.5);
  const output = uniform(embd * vocabularySize, 0.3);
  for (let token = 0; token < vocabularySize; token++) {
    embeddings[token * embd] = 4;
    output[token * embd] = isPrintable(token) ? 1 : -1;
  }
  const tensors = [
    tensor("token_embd.weight", [embd, vocabularySize], embeddings),
    tensor("output_norm.weight", [embd], ones(embd)),
    tensor("output.weight", [embd, vocabularySize], output),
  ];
  for (let layer = 0; layer < m.blockCount; layer++) {
    const blk = `blk.${layer}`;
    tensors.push(
      tensor(`${blk}.attn_norm.weight`, [embd], ones(embd)),
      tensor(`${blk}.attn_q.weight`, [embd, embd], uniform(embd * embd, 0.05)),
      tensor(`${blk}.attn_k.weight`, [embd, kvDim], uniform(embd * kvDim, 0.05)),
      tensor(`${blk}.attn_v.weight`, [embd, kvDim], uniform(embd * kvDim, 0.05)),
      tensor(`${blk}.attn_output.weight`, [embd, embd], uniform(embd * embd, 0.05)),
      tensor(`${blk}.ffn_norm.weight`, [embd], ones(embd)),
      tensor(`${blk}.ffn_gate.weight`, [embd, ff], uniform(embd * ff, 0.05)),
      tensor(`${blk}.ffn_up.weight`, [embd, ff], uniform(embd * ff, 0.05)),
      tensor(`${blk}.ffn_down.weight`, [ff, embd], uniform(ff * embd, 0.05)),
    );
  }
  return tensors;
}

function buildMetadata(vocabulary: Vocabulary): GgufEntry[] {
  const m = TINY_MODEL;
  const u32 = (key: string, value: number): GgufEntry => ({ key, type: "uint32", value });
  const f32Entry = (key: string, value: number): GgufEntry => ({ key, type: "float32", value });
  return [
    { key: "general.architecture", type: "string", value: "llama" },
    { key: "general.name", type: "string", value: m.name },
    { key: "general.description", type: "string", value: "Random weights from a fixed seed; demo only." },
    u32("general.alignment", 32),
    u32("general.file_type", 0),
    u32("llama.context_length", m.contextLength),
    u32("llama.embedding_length", m.embeddingLength),
    u32("llama.block_count", m.blockCount),
    u32("llama.feed_forward_length", m.feedForwardLength),
    u32("llama.attention.head_count", m.headCount),
    u32("llama.attention.head_count_kv", m.headCountKv),
    u32("llama.rope.dimension_count", m.embeddingLength / m.headCount),
    u32("llama.vocab_size", vocabulary.tokens.length),
    f32Entry("llama.attention.layer_norm_rms_epsilon", m.rmsEpsilon),
    f32Entry("llama.rope.freq_base", m.ropeFreqBase),
    { key: "tokenizer.ggml.model", type: "string", value: "llama" },
    { key: "tokenizer.ggml.tokens", type: "array", itemType: "string", value: vocabulary.tokens },
    { key: "tokenizer.ggml.scores", type: "array", itemType: "float32", value: vocabulary.scores },
    { key: "tokenizer.ggml.token_type", type: "array", itemType: "int32", value: vocabulary.types },
    u32("tokenizer.ggml.unknown_token_id", 0),
    u32("tokenizer.ggml.bos_token_id", 1),
    u32("tokenizer.ggml.eos_token_id", 2),
    { key: "tokenizer.ggml.add_bos_token", type: "bool", value: true },
    { key: "tokenizer.ggml.add_eos_token", type: "bool", value: false },
    { key: "tokenizer.chat_template", type: "string", value: CHAT_TEMPLATE },
  ];
}

/** The model's metadata and tensors before encoding, so tests can derive broken variants. */
export function tinyModelParts(): GgufInput {
  const vocabulary = buildVocabulary();
  return { metadata: buildMetadata(vocabulary), tensors: buildTensors(vocabulary.tokens.length) };
}

/** The complete file, byte for byte; pure, so tests can compare it without touching the disk. */
export function buildTinyModel(): Uint8Array {
  return encodeGguf(tinyModelParts());
}

export interface GeneratedModel {
  path: string;
  sha256: string;
  bytes: number;
}

/**
 * Writes the tiny model to `outPath` (creating its directory). The write goes to a temporary name
 * first and is renamed into place, so a runner starting meanwhile never maps a half-written file.
 */
export async function generateTinyModel(outPath: string): Promise<GeneratedModel> {
  const data = buildTinyModel();
  await mkdir(dirname(outPath), { recursive: true });
  const temporary = `${outPath}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, outPath);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return { path: outPath, sha256: createHash("sha256").update(data).digest("hex"), bytes: data.length };
}

/**
 * For a start-up that finds no model (npm install ran with --ignore-scripts, or the file was
 * deleted): writes the tiny model unless `path` already holds exactly it. Hashing 430 KB is cheap.
 */
export async function ensureTinyModel(path: string): Promise<GeneratedModel & { generated: boolean }> {
  const existing = await readFile(path).catch(() => undefined);
  if (existing !== undefined && createHash("sha256").update(existing).digest("hex") === TINY_MODEL_SHA256) {
    return { path, sha256: TINY_MODEL_SHA256, bytes: existing.length, generated: false };
  }
  return { ...(await generateTinyModel(path)), generated: true };
}
