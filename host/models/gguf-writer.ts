import {
  alignUp,
  GGML_TYPES,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_SCALAR_BYTES,
  type GgufScalar,
  type GgufScalarType,
  ggmlTensorBytes,
  ggufValueTypeCode,
} from "./gguf-format.js";

export type GgufEntry =
  | { key: string; type: GgufScalarType; value: GgufScalar }
  | { key: string; type: "array"; itemType: GgufScalarType; value: readonly GgufScalar[] };

export interface GgufTensorInput {
  name: string;
  /** ne[0] first: the fastest-varying dimension, as ggml counts them. */
  dims: readonly number[];
  /** A ggml type code, e.g. GGML_TYPE_F32. */
  type: number;
  data: Uint8Array;
}

export interface GgufInput {
  version?: number;
  metadata: readonly GgufEntry[];
  tensors: readonly GgufTensorInput[];
}

/** A growable little-endian byte sink. */
class ByteSink {
  private buffer = new Uint8Array(4096);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(bytes: number): number {
    const at = this.length;
    if (at + bytes > this.buffer.length) {
      const next = new Uint8Array(Math.max(this.buffer.length * 2, at + bytes));
      next.set(this.buffer.subarray(0, at));
      this.buffer = next;
      this.view = new DataView(next.buffer);
    }
    this.length += bytes;
    return at;
  }

  bytes(data: Uint8Array): void {
    const at = this.reserve(data.length);
    this.buffer.set(data, at);
  }
  zeros(count: number): void {
    const at = this.reserve(count);
    this.buffer.fill(0, at, this.length);
  }
  u32(value: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
  }
  u64(value: number | bigint): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt(value), true);
  }
  string(value: string): void {
    const encoded = new TextEncoder().encode(value);
    this.u64(encoded.length);
    this.bytes(encoded);
  }
  scalar(type: GgufScalarType, value: GgufScalar): void {
    if (type === "string") {
      this.string(String(value));
      return;
    }
    const at = this.reserve(GGUF_SCALAR_BYTES[type]);
    const view = this.view;
    const n = Number(value);
    if (type === "uint8" || type === "bool") view.setUint8(at, type === "bool" ? (value ? 1 : 0) : n);
    else if (type === "int8") view.setInt8(at, n);
    else if (type === "uint16") view.setUint16(at, n, true);
    else if (type === "int16") view.setInt16(at, n, true);
    else if (type === "uint32") view.setUint32(at, n, true);
    else if (type === "int32") view.setInt32(at, n, true);
    else if (type === "float32") view.setFloat32(at, n, true);
    else if (type === "float64") view.setFloat64(at, n, true);
    else if (type === "uint64") view.setBigUint64(at, BigInt(value), true);
    else view.setBigInt64(at, BigInt(value), true);
  }
  result(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

/**
 * Serialises a complete GGUF file: header, metadata, tensor infos, then each tensor's data at the
 * next multiple of `general.alignment` (32 unless the metadata says otherwise), which is where
 * llama.cpp expects it. Used for the tiny demo model and for test fixtures.
 */
export function encodeGguf({ version = 3, metadata, tensors }: GgufInput): Uint8Array {
  const alignmentEntry = metadata.find((entry) => entry.key === "general.alignment");
  const alignment = alignmentEntry === undefined ? GGUF_DEFAULT_ALIGNMENT : Number(alignmentEntry.value);
  const sink = new ByteSink();
  sink.bytes(new TextEncoder().encode(GGUF_MAGIC));
  sink.u32(version);
  sink.u64(tensors.length);
  sink.u64(metadata.length);
  for (const entry of metadata) {
    sink.string(entry.key);
    sink.u32(ggufValueTypeCode(entry.type));
    if (entry.type === "array") {
      sink.u32(ggufValueTypeCode(entry.itemType));
      sink.u64(entry.value.length);
      for (const item of entry.value) sink.scalar(entry.itemType, item);
    } else {
      sink.scalar(entry.type, entry.value);
    }
  }
  let offset = 0;
  for (const tensor of tensors) {
    const expected = ggmlTensorBytes(tensor.dims, tensor.type);
    if (expected !== tensor.data.length) {
      const type = GGML_TYPES.get(tensor.type)?.name ?? `type ${tensor.type}`;
      throw new Error(`tensor ${tensor.name}: ${tensor.data.length} bytes given, ${type} needs ${expected}`);
    }
    sink.string(tensor.name);
    sink.u32(tensor.dims.length);
    for (const dim of tensor.dims) sink.u64(dim);
    sink.u32(tensor.type);
    sink.u64(offset);
    offset = alignUp(offset + tensor.data.length, alignment);
  }
  for (const tensor of tensors) {
    sink.zeros(alignUp(sink.length, alignment) - sink.length);
    sink.bytes(tensor.data);
  }
  // gguf-py pads after the last tensor too; llama.cpp's data-section size counts that padding.
  sink.zeros(alignUp(sink.length, alignment) - sink.length);
  return sink.result();
}
