import { metaPerLayer, metaString, metaStrings, metaUint32 } from "./gguf-metadata.js";
import type { GgufHeader } from "./gguf-reader.js";

const MIB = 1024 * 1024;
/** Allocator slack and llama.cpp's own small buffers, measured as a few tens of MB. */
const SLACK_BYTES = 32 * MIB;

/** The model's shape as far as memory is concerned; from the GGUF header when it is readable. */
export interface ModelShape {
  /** F16 K plus V cache bytes per token of context, summed over layers. */
  kvBytesPerToken: number;
  vocabularySize: number;
}

export function modelShape(header: GgufHeader): ModelShape | undefined {
  const arch = metaString(header, "general.architecture");
  if (arch === undefined) return undefined;
  const layers = metaUint32(header, `${arch}.block_count`);
  const embd = metaUint32(header, `${arch}.embedding_length`);
  if (layers === undefined || embd === undefined) return undefined;
  const heads = metaPerLayer(header, `${arch}.attention.head_count`, layers);
  if (heads === undefined || heads[0] === undefined || heads[0] === 0) return undefined;
  const headsKv = metaPerLayer(header, `${arch}.attention.head_count_kv`, layers) ?? heads;
  const keyDim = metaUint32(header, `${arch}.attention.key_length`) ?? embd / heads[0];
  const valueDim = metaUint32(header, `${arch}.attention.value_length`) ?? embd / heads[0];
  const kvElementsPerToken = headsKv.reduce((sum, kv) => sum + kv * (keyDim + valueDim), 0);
  const vocabularySize =
    metaUint32(header, `${arch}.vocab_size`) ?? metaStrings(header, "tokenizer.ggml.tokens")?.length ?? 0;
  return { kvBytesPerToken: kvElementsPerToken * 2, vocabularySize };
}

export interface MemoryEstimateInput {
  fileSizeBytes: number;
  contextSize: number;
  sequences: number;
  batchSize: number;
  shape?: ModelShape;
}

/**
 * MB (MiB) a loaded model needs on the CPU, beyond the runner process itself: the mapped weights
 * (the file), the F16 KV cache for every sequence's context, the logits buffer llama.cpp reserves
 * for a batch (vocabulary x min(batch, 512) floats), plus slack. Without the shape, the cache and
 * buffers are guessed at a quarter of the file. An estimate for routing and admission, not a limit.
 */
export function estimateMemoryMb({
  fileSizeBytes,
  contextSize,
  sequences,
  batchSize,
  shape,
}: MemoryEstimateInput): number {
  const extraBytes =
    shape === undefined
      ? fileSizeBytes / 4
      : shape.kvBytesPerToken * contextSize * sequences + shape.vocabularySize * Math.min(batchSize, 512) * 4;
  return Math.ceil((fileSizeBytes + extraBytes + SLACK_BYTES) / MIB);
}
