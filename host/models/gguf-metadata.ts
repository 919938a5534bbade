import type { GgufHeader } from "./gguf-reader.js";

export type GgufProblemCode =
  | "unreadable"
  | "bad-magic"
  | "unsupported-version"
  | "truncated"
  | "corrupt"
  | "duplicate-key"
  | "bad-alignment"
  | "bad-tensor"
  | "duplicate-tensor"
  | "tensor-offset"
  | "missing-key"
  | "wrong-type"
  | "bad-value"
  | "unknown-architecture"
  | "tokenizer"
  | "missing-tensor"
  | "tensor-shape"
  | "unexpected-tensor"
  | "size-mismatch"
  | "sha256-mismatch";

/**
 * One reason llama.cpp would refuse (error) or misbehave on (warning) a file. Errors are what it
 * aborts or throws on while loading; they are checked here because an abort takes the whole
 * process down, which no try/catch around the load can stop.
 */
export interface GgufProblem {
  code: GgufProblemCode;
  severity: "error" | "warning";
  message: string;
}

export const error = (code: GgufProblemCode, message: string): GgufProblem => ({
  code,
  severity: "error",
  message,
});
export const warning = (code: GgufProblemCode, message: string): GgufProblem => ({
  code,
  severity: "warning",
  message,
});

/** What the type of a metadata entry is called in messages: `uint32`, `array of string`. */
export function describeType(header: GgufHeader, key: string): string {
  const entry = header.metadata.get(key);
  if (entry === undefined) return "missing";
  return entry.type === "array" ? `array of ${entry.itemType}` : entry.type;
}

export function metaString(header: GgufHeader, key: string): string | undefined {
  const entry = header.metadata.get(key);
  return entry?.type === "string" ? (entry.value as string) : undefined;
}

export function metaUint32(header: GgufHeader, key: string): number | undefined {
  const entry = header.metadata.get(key);
  return entry?.type === "uint32" ? (entry.value as number) : undefined;
}

export function metaFloat32(header: GgufHeader, key: string): number | undefined {
  const entry = header.metadata.get(key);
  return entry?.type === "float32" ? (entry.value as number) : undefined;
}

export function metaStrings(header: GgufHeader, key: string): string[] | undefined {
  const entry = header.metadata.get(key);
  return entry?.type === "array" && entry.itemType === "string" ? (entry.value as string[]) : undefined;
}

/**
 * A per-layer hyper-parameter: llama.cpp accepts a uint32 for all layers or an int32/uint32 array
 * with one value per layer (get_key_or_arr). Undefined when missing or malformed.
 */
export function metaPerLayer(header: GgufHeader, key: string, layers: number): number[] | undefined {
  const entry = header.metadata.get(key);
  if (entry?.type === "uint32") return new Array<number>(layers).fill(entry.value as number);
  if (entry?.type === "array" && (entry.itemType === "uint32" || entry.itemType === "int32")) {
    const values = entry.value as number[];
    return values.length === layers ? values : undefined;
  }
  return undefined;
}

/** A problem for each present key whose type is not one llama.cpp accepts for it. */
export function typeProblems(
  header: GgufHeader,
  keys: ReadonlyArray<readonly [string, readonly string[]]>,
): GgufProblem[] {
  const problems: GgufProblem[] = [];
  for (const [key, types] of keys) {
    const actual = describeType(header, key);
    if (actual !== "missing" && !types.includes(actual)) {
      problems.push(
        error("wrong-type", `metadata "${key}" is ${actual}; llama.cpp requires ${types.join(" or ")}`),
      );
    }
  }
  return problems;
}
