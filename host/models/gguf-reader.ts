import { type FileHandle, open } from "node:fs/promises";
import { Cursor, GgufFormatError } from "./gguf-cursor.js";

import {
  alignUp,
  GGML_TYPES,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_ARRAY_ITEMS,
  GGUF_MAX_VERSION,
  GGUF_VALUE_TYPES,
  type GgufScalar,
  type GgufScalarType,
  type GgufValue,
  type GgufValueType,
  ggmlTensorBytes,
} from "./gguf-format.js";

export { GgufFormatError, type GgufFormatProblem } from "./gguf-cursor.js";

export interface GgufMetadataEntry {
  type: GgufValueType;
  /** The element type when `type` is "array". */
  itemType?: GgufScalarType;
  /** 64-bit integers are numbers when exact, bigints beyond 2^53. */
  value: GgufValue;
}

export interface GgufTensorInfo {
  name: string;
  /** ne[0] first, as ggml counts them. */
  dims: number[];
  type: number;
  /** "F32", "Q4_K", …; `unknown(N)` for a type llama.cpp does not know. */
  typeName: string;
  /** Relative to the start of the data section, as stored. */
  offsetBytes: number;
  /** Undefined for an unknown type. */
  sizeBytes: number | undefined;
}

export interface GgufHeader {
  path: string;
  fileSizeBytes: number;
  version: number;
  /** In file order; llama.cpp refuses duplicates, which `duplicateKeys` lists. */
  metadata: Map<string, GgufMetadataEntry>;
  duplicateKeys: string[];
  tensors: GgufTensorInfo[];
  /** From `general.alignment` when valid, else the default 32 (`checkGguf` reports a bad one). */
  alignment: number;
  /** Absolute file offset of the tensor data section. */
  dataOffsetBytes: number;
}

async function readVersion(cursor: Cursor): Promise<number> {
  const version = await cursor.u32("the GGUF version");
  if (version === 0 || (version & 0xffff) === 0) {
    const hint = version === 0 ? "" : " (a big-endian file? llama.cpp reads little-endian GGUF only)";
    throw new GgufFormatError("unsupported-version", `GGUF version ${version} is not valid${hint}`);
  }
  if (version === 1) {
    throw new GgufFormatError(
      "unsupported-version",
      "GGUF version 1 is no longer supported by llama.cpp; convert the model again or download a newer file",
    );
  }
  if (version > GGUF_MAX_VERSION) {
    throw new GgufFormatError(
      "unsupported-version",
      `GGUF version ${version} is newer than the bundled llama.cpp reads (up to ${GGUF_MAX_VERSION}); upgrade node-llama-cpp`,
    );
  }
  return version;
}

async function readEntry(cursor: Cursor, key: string): Promise<GgufMetadataEntry> {
  const typeCode = await cursor.u32(`the type of key "${key}"`);
  const type = GGUF_VALUE_TYPES[typeCode];
  if (type === undefined)
    throw new GgufFormatError("corrupt", `key "${key}" has invalid GGUF type ${typeCode}`);
  if (type !== "array")
    return { type, value: (await cursor.scalars(type, 1, `the value of "${key}"`))[0] as GgufScalar };
  const itemCode = await cursor.u32(`the element type of "${key}"`);
  const itemType = GGUF_VALUE_TYPES[itemCode];
  if (itemType === undefined || itemType === "array") {
    throw new GgufFormatError("corrupt", `key "${key}" has invalid GGUF array element type ${itemCode}`);
  }
  const count = await cursor.count(`the length of "${key}"`);
  if (count > GGUF_MAX_ARRAY_ITEMS) {
    throw new GgufFormatError("corrupt", `key "${key}" claims ${count} elements, over llama.cpp's limit`);
  }
  return { type, itemType, value: await cursor.scalars(itemType, count, `the value of "${key}"`) };
}

async function readTensorInfo(cursor: Cursor, index: number): Promise<GgufTensorInfo> {
  const name = await cursor.string(`the name of tensor ${index}`);
  const dimCount = await cursor.u32(`the dimension count of tensor "${name}"`);
  if (dimCount > 4) {
    throw new GgufFormatError(
      "corrupt",
      `tensor "${name}" has ${dimCount} dimensions; ggml allows at most 4`,
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < dimCount; d++) {
    const dim = await cursor.i64(`the shape of tensor "${name}"`);
    if (dim < 0n || dim > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new GgufFormatError("corrupt", `tensor "${name}" dimension ${d} is ${dim}`);
    }
    dims.push(Number(dim));
  }
  const type = await cursor.u32(`the type of tensor "${name}"`);
  const offsetBytes = await cursor.count(`the data offset of tensor "${name}"`);
  return {
    name,
    dims,
    type,
    typeName: GGML_TYPES.get(type)?.name ?? `unknown(${type})`,
    offsetBytes,
    sizeBytes: ggmlTensorBytes(dims, type),
  };
}

/**
 * Reads a GGUF file's header, metadata and tensor table (v2 or v3), never its tensor data. Throws
 * GgufFormatError when the structure itself is unreadable; everything that parses but that
 * llama.cpp would still refuse is left to `findGgufProblems`.
 */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "file not found" : `cannot open the file (${code ?? String(error)})`;
    throw new GgufFormatError("unreadable", reason);
  }
  try {
    const { size } = await handle.stat();
    const cursor = new Cursor(handle, size);
    if (size < 4)
      throw new GgufFormatError("truncated", `the file has only ${size} bytes; it is not a GGUF model`);
    const magic = await cursor.bytes(4, "the magic");
    if (magic.toString("latin1") !== GGUF_MAGIC) {
      const shown = [...magic].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "?")).join("");
      throw new GgufFormatError("bad-magic", `not a GGUF file: it starts with "${shown}", not "GGUF"`);
    }
    const version = await readVersion(cursor);
    const tensorCount = await cursor.count("the tensor count");
    const entryCount = await cursor.count("the metadata count");
    const metadata = new Map<string, GgufMetadataEntry>();
    const duplicateKeys: string[] = [];
    for (let i = 0; i < entryCount; i++) {
      const key = await cursor.string(`metadata key ${i}`);
      if (key === "") throw new GgufFormatError("corrupt", `metadata key ${i} is empty`);
      if (metadata.has(key)) duplicateKeys.push(key);
      metadata.set(key, await readEntry(cursor, key));
    }
    const alignmentEntry = metadata.get("general.alignment");
    const declared =
      alignmentEntry?.type === "uint32" ? Number(alignmentEntry.value) : GGUF_DEFAULT_ALIGNMENT;
    const alignment = declared > 0 && (declared & (declared - 1)) === 0 ? declared : GGUF_DEFAULT_ALIGNMENT;
    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < tensorCount; i++) tensors.push(await readTensorInfo(cursor, i));
    const dataOffsetBytes = tensorCount > 0 ? alignUp(cursor.position, alignment) : cursor.position;
    return {
      path,
      fileSizeBytes: size,
      version,
      metadata,
      duplicateKeys,
      tensors,
      alignment,
      dataOffsetBytes,
    };
  } finally {
    await handle.close();
  }
}
