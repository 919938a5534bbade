import type { FileHandle } from "node:fs/promises";
import {
  GGUF_MAX_STRING_BYTES,
  GGUF_SCALAR_BYTES,
  type GgufScalar,
  type GgufScalarType,
} from "./gguf-format.js";

export type GgufFormatProblem = "unreadable" | "bad-magic" | "unsupported-version" | "truncated" | "corrupt";

/** The header cannot be parsed at all; `code` says why in a word, the message in a sentence. */
export class GgufFormatError extends Error {
  override readonly name = "GgufFormatError";
  constructor(
    readonly code: GgufFormatProblem,
    message: string,
  ) {
    super(message);
  }
}

const CHUNK_BYTES = 1 << 20;

/**
 * Sequential reads over a file through a 1 MiB window: the header of a 4 GB model is a few MB of
 * vocabulary, and the tensor data after it is never touched.
 */
export class Cursor {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  position = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly fileSizeBytes: number,
  ) {}

  private truncated(what: string): GgufFormatError {
    return new GgufFormatError(
      "truncated",
      `the file ends (at ${this.fileSizeBytes} bytes) inside ${what}: it is truncated, e.g. an incomplete download`,
    );
  }

  /** True when `bytes` more are already in the window, so a caller can stay synchronous. */
  private has(bytes: number): boolean {
    return this.position + bytes <= this.windowStart + this.window.length;
  }

  async need(bytes: number, what: string): Promise<void> {
    if (this.position + bytes > this.fileSizeBytes) throw this.truncated(what);
    if (this.has(bytes)) return;
    const length = Math.min(Math.max(bytes, CHUNK_BYTES), this.fileSizeBytes - this.position);
    const window = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.handle.read(window, 0, length, this.position);
    if (bytesRead < bytes) throw this.truncated(what);
    this.window = window.subarray(0, bytesRead);
    this.windowStart = this.position;
  }

  private at(bytes: number): number {
    const offset = this.position - this.windowStart;
    this.position += bytes;
    return offset;
  }

  async bytes(count: number, what: string): Promise<Buffer> {
    await this.need(count, what);
    const offset = this.at(count);
    return this.window.subarray(offset, offset + count);
  }

  async u32(what: string): Promise<number> {
    await this.need(4, what);
    return this.window.readUInt32LE(this.at(4));
  }

  /** A u64 length or count; beyond 2^53 it cannot fit any file, so it is reported as corrupt. */
  async count(what: string): Promise<number> {
    await this.need(8, what);
    const value = this.window.readBigUInt64LE(this.at(8));
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufFormatError("corrupt", `${what} is ${value}`);
    return Number(value);
  }

  async i64(what: string): Promise<bigint> {
    await this.need(8, what);
    return this.window.readBigInt64LE(this.at(8));
  }

  /** Reads a string if the window already holds it; undefined means "await `string`". */
  stringNow(): string | undefined {
    if (!this.has(8)) return undefined;
    const length = this.window.readBigUInt64LE(this.position - this.windowStart);
    if (length > BigInt(GGUF_MAX_STRING_BYTES) || !this.has(8 + Number(length))) return undefined;
    const offset = this.at(8 + Number(length)) + 8;
    return this.window.toString("utf8", offset, offset + Number(length));
  }

  async string(what: string): Promise<string> {
    const length = await this.count(`the length of ${what}`);
    if (length > GGUF_MAX_STRING_BYTES) {
      throw new GgufFormatError("corrupt", `${what} claims ${length} bytes, over llama.cpp's 1 GiB limit`);
    }
    if (length > this.fileSizeBytes - this.position) throw this.truncated(what);
    return (await this.bytes(length, what)).toString("utf8");
  }

  async scalars(type: GgufScalarType, count: number, what: string): Promise<GgufScalar[]> {
    if (type === "string") {
      const values: string[] = [];
      for (let i = 0; i < count; i++) values.push(this.stringNow() ?? (await this.string(what)));
      return values;
    }
    const size = GGUF_SCALAR_BYTES[type];
    if (count * size > this.fileSizeBytes - this.position) throw this.truncated(what);
    const data = await this.bytes(count * size, what);
    const values: GgufScalar[] = new Array(count);
    for (let i = 0; i < count; i++) values[i] = decodeScalar(data, i * size, type);
    return values;
  }
}

function exactInteger(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value;
}

function decodeScalar(data: Buffer, offset: number, type: Exclude<GgufScalarType, "string">): GgufScalar {
  switch (type) {
    case "uint8":
      return data.readUInt8(offset);
    case "int8":
      return data.readInt8(offset);
    case "uint16":
      return data.readUInt16LE(offset);
    case "int16":
      return data.readInt16LE(offset);
    case "uint32":
      return data.readUInt32LE(offset);
    case "int32":
      return data.readInt32LE(offset);
    case "float32":
      return data.readFloatLE(offset);
    case "bool":
      return data.readUInt8(offset) !== 0;
    case "uint64":
      return exactInteger(data.readBigUInt64LE(offset));
    case "int64":
      return exactInteger(data.readBigInt64LE(offset));
    case "float64":
      return data.readDoubleLE(offset);
  }
}
