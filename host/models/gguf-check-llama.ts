import { error, type GgufProblem, metaPerLayer, metaStrings, metaUint32, warning } from "./gguf-metadata.js";
import type { GgufHeader, GgufTensorInfo } from "./gguf-reader.js";

/** Tensors llama.cpp's llama loader accepts but does not require (biases, RoPE factors). */
const OPTIONAL_TENSOR =
  /^(output\.weight|rope_freqs\.weight|blk\.\d+\.(attn_(q|k|v|output|qkv)\.bias|ffn_(gate|up|down)\.bias|rope_(freqs|factors_long|factors_short)\.weight))$/;

function sameShape(actual: readonly number[], expected: readonly number[]): boolean {
  for (let d = 0; d < 4; d++) if ((actual[d] ?? 1) !== (expected[d] ?? 1)) return false;
  return true;
}

const shape = (dims: readonly number[]) => `[${dims.join(", ")}]`;

/**
 * The llama architecture's tensor table (src/models/llama.cpp in the bundled llama.cpp): a
 * missing or mis-shaped tensor is an error there too, with a message that names neither the file
 * nor a fix. Only dense models are checked in full; mixture-of-experts layers are left to llama.cpp.
 */
export function llamaTensorProblems(header: GgufHeader): GgufProblem[] {
  const problems: GgufProblem[] = [];
  const embd = metaUint32(header, "llama.embedding_length") ?? 0;
  const layers = metaUint32(header, "llama.block_count") ?? 0;
  const vocab =
    metaUint32(header, "llama.vocab_size") ?? metaStrings(header, "tokenizer.ggml.tokens")?.length ?? 0;
  const heads = metaPerLayer(header, "llama.attention.head_count", layers);
  const ff = metaPerLayer(header, "llama.feed_forward_length", layers);
  if (heads === undefined || ff === undefined) {
    const key = heads === undefined ? "llama.attention.head_count" : "llama.feed_forward_length";
    return [
      error(
        "missing-key",
        `metadata "${key}" is missing or not one value per layer; the layers cannot be built`,
      ),
    ];
  }
  const headsKv = metaPerLayer(header, "llama.attention.head_count_kv", layers) ?? heads;
  const headDim = metaUint32(header, "llama.attention.key_length") ?? embd / (heads[0] || 1);
  const valueDim = metaUint32(header, "llama.attention.value_length") ?? embd / (heads[0] || 1);
  const rot = metaUint32(header, "llama.rope.dimension_count");
  if (rot !== undefined && rot !== headDim) {
    problems.push(
      error(
        "bad-value",
        `"llama.rope.dimension_count" is ${rot}; llama.cpp requires the head size, ${headDim}`,
      ),
    );
  }
  const experts = metaUint32(header, "llama.expert_count") ?? 0;

  const byName = new Map<string, GgufTensorInfo>(header.tensors.map((tensor) => [tensor.name, tensor]));
  const expected = new Set<string>();
  const expect = (name: string, dims: number[], required = true) => {
    expected.add(name);
    const tensor = byName.get(name);
    if (tensor === undefined) {
      if (required) problems.push(error("missing-tensor", `tensor "${name}" is missing`));
    } else if (!sameShape(tensor.dims, dims)) {
      problems.push(
        error("tensor-shape", `tensor "${name}" has shape ${shape(tensor.dims)}; expected ${shape(dims)}`),
      );
    }
  };
  expect("token_embd.weight", [embd, vocab]);
  expect("output_norm.weight", [embd]);
  expect("output.weight", [embd, vocab], false);
  for (let i = 0; i < layers; i++) {
    const blk = `blk.${i}`;
    const q = headDim * (heads[i] ?? 0);
    const k = headDim * (headsKv[i] ?? 0);
    const v = valueDim * (headsKv[i] ?? 0);
    expect(`${blk}.attn_norm.weight`, [embd]);
    const fused = byName.has(`${blk}.attn_qkv.weight`);
    expect(`${blk}.attn_qkv.weight`, [embd, q + k + v], false);
    expect(`${blk}.attn_q.weight`, [embd, q], !fused);
    expect(`${blk}.attn_k.weight`, [embd, k], !fused);
    expect(`${blk}.attn_v.weight`, [embd, v], !fused);
    expect(`${blk}.attn_output.weight`, [q, embd]);
    expect(`${blk}.ffn_norm.weight`, [embd]);
    if (experts === 0) {
      expect(`${blk}.ffn_gate.weight`, [embd, ff[i] ?? 0]);
      expect(`${blk}.ffn_up.weight`, [embd, ff[i] ?? 0]);
      expect(`${blk}.ffn_down.weight`, [ff[i] ?? 0, embd]);
    }
  }
  if (experts === 0) {
    const extra = header.tensors.filter((t) => !expected.has(t.name) && !OPTIONAL_TENSOR.test(t.name));
    if (extra.length > 0) {
      const names =
        extra
          .slice(0, 3)
          .map((t) => `"${t.name}"`)
          .join(", ") + (extra.length > 3 ? ", …" : "");
      problems.push(
        warning(
          "unexpected-tensor",
          `${extra.length} tensors a llama model does not use (${names}); llama.cpp may refuse the file`,
        ),
      );
    }
  }
  return problems;
}
