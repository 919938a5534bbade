/**
 * The GGUF container format, as the llama.cpp bundled with node-llama-cpp 3.22 reads it
 * (ggml/src/gguf.cpp and gguf-py/gguf/constants.py). Little-endian throughout.
 */

export const GGUF_MAGIC = "GGUF";
/** The newest version llama.cpp reads; v1 was dropped, v2 and v3 differ only in what this reader ignores. */
export const GGUF_MAX_VERSION = 3;
export const GGUF_MIN_VERSION = 2;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** llama.cpp's GGML_MAX_NAME: a tensor name must be shorter than this. */
export const GGML_MAX_NAME = 64;
export const GGML_MAX_DIMS = 4;
/** llama.cpp's GGUF_MAX_STRING_LENGTH and GGUF_MAX_ARRAY_ELEMENTS. */
export const GGUF_MAX_STRING_BYTES = 1024 * 1024 * 1024;
export const GGUF_MAX_ARRAY_ITEMS = 1024 * 1024 * 1024;

/** Metadata value types in the order of their on-disk codes (0..12). */
export const GGUF_VALUE_TYPES = [
  "uint8",
  "int8",
  "uint16",
  "int16",
  "uint32",
  "int32",
  "float32",
  "bool",
  "string",
  "array",
  "uint64",
  "int64",
  "float64",
] as const;

export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];
export type GgufScalarType = Exclude<GgufValueType, "array">;
export type GgufScalar = number | bigint | boolean | string;
export type GgufValue = GgufScalar | GgufScalar[];

/** Bytes per item of the fixed-size scalar types; strings are length-prefixed instead. */
export const GGUF_SCALAR_BYTES: Record<Exclude<GgufScalarType, "string">, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  bool: 1,
  uint64: 8,
  int64: 8,
  float64: 8,
};

export function ggufValueTypeCode(type: GgufValueType): number {
  return GGUF_VALUE_TYPES.indexOf(type);
}

interface GgmlTypeInfo {
  name: string;
  /** Elements per block; a row (ne[0]) must be a multiple of it. */
  blockSize: number;
  /** Bytes per block. */
  blockBytes: number;
}

const QK_K = 256;

/**
 * Tensor element types by code. Codes 4, 5 and 31-33, 36-38 were removed from llama.cpp: a file
 * using them is refused, so they are absent here.
 */
export const GGML_TYPES: ReadonlyMap<number, GgmlTypeInfo> = new Map(
  (
    [
      [0, "F32", 1, 4],
      [1, "F16", 1, 2],
      [2, "Q4_0", 32, 18],
      [3, "Q4_1", 32, 20],
      [6, "Q5_0", 32, 22],
      [7, "Q5_1", 32, 24],
      [8, "Q8_0", 32, 34],
      [9, "Q8_1", 32, 36],
      [10, "Q2_K", QK_K, 4 + QK_K / 16 + QK_K / 4],
      [11, "Q3_K", QK_K, 2 + QK_K / 4 + QK_K / 8 + 12],
      [12, "Q4_K", QK_K, 4 + QK_K / 2 + 12],
      [13, "Q5_K", QK_K, 4 + QK_K / 2 + QK_K / 8 + 12],
      [14, "Q6_K", QK_K, 2 + QK_K / 2 + QK_K / 4 + QK_K / 16],
      [15, "Q8_K", QK_K, 4 + QK_K + QK_K / 8],
      [16, "IQ2_XXS", QK_K, 2 + QK_K / 4],
      [17, "IQ2_XS", QK_K, 2 + QK_K / 4 + QK_K / 32],
      [18, "IQ3_XXS", QK_K, 2 + QK_K / 4 + QK_K / 8],
      [19, "IQ1_S", QK_K, 2 + QK_K / 8 + QK_K / 16],
      [20, "IQ4_NL", 32, 18],
      [21, "IQ3_S", QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4],
      [22, "IQ2_S", QK_K, 2 + QK_K / 4 + QK_K / 16],
      [23, "IQ4_XS", QK_K, 4 + QK_K / 2 + QK_K / 64],
      [24, "I8", 1, 1],
      [25, "I16", 1, 2],
      [26, "I32", 1, 4],
      [27, "I64", 1, 8],
      [28, "F64", 1, 8],
      [29, "IQ1_M", QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32],
      [30, "BF16", 1, 2],
      [34, "TQ1_0", QK_K, 2 + 4 * 13],
      [35, "TQ2_0", QK_K, 2 + 64],
      [39, "MXFP4", 32, 17],
      [40, "NVFP4", 64, 36],
      [41, "Q1_0", 128, 18],
      [42, "Q2_0", 64, 18],
    ] as const
  ).map(([code, name, blockSize, blockBytes]) => [code, { name, blockSize, blockBytes }]),
);

export const GGML_TYPE_F32 = 0;
export const GGML_TYPE_F16 = 1;

/** Bytes a tensor of `dims` and `type` occupies, or undefined for an unknown type. */
export function ggmlTensorBytes(dims: readonly number[], type: number): number | undefined {
  const info = GGML_TYPES.get(type);
  if (info === undefined) return undefined;
  const elements = dims.reduce((product, dim) => product * dim, 1);
  return (elements / info.blockSize) * info.blockBytes;
}

/** GGUF token types (tokenizer.ggml.token_type). */
export const TOKEN_TYPE = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
