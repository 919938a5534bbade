import { TOKEN_TYPE } from "./gguf-format.js";
import {
  error,
  type GgufProblem,
  metaString,
  metaStrings,
  metaUint32,
  typeProblems,
  warning,
} from "./gguf-metadata.js";
import type { GgufHeader } from "./gguf-reader.js";

const TOKENIZER_TYPES: ReadonlyArray<readonly [key: string, types: readonly string[]]> = [
  ["tokenizer.ggml.model", ["string"]],
  ["tokenizer.ggml.pre", ["string"]],
  ["tokenizer.ggml.tokens", ["array of string"]],
  ["tokenizer.ggml.scores", ["array of float32", "array of int32"]],
  ["tokenizer.ggml.token_type", ["array of int32"]],
  ["tokenizer.ggml.merges", ["array of string"]],
  ["tokenizer.ggml.bos_token_id", ["uint32"]],
  ["tokenizer.ggml.eos_token_id", ["uint32"]],
  ["tokenizer.ggml.unknown_token_id", ["uint32"]],
  ["tokenizer.ggml.padding_token_id", ["uint32"]],
  ["tokenizer.ggml.add_bos_token", ["bool"]],
  ["tokenizer.ggml.add_eos_token", ["bool"]],
  ["tokenizer.chat_template", ["string"]],
];

/** tokenizer.ggml.model values the bundled llama.cpp knows (src/llama-vocab.cpp). */
const TOKENIZER_MODELS = new Set([
  "none",
  "no_vocab",
  "llama",
  "bert",
  "gpt2",
  "hybriddna",
  "whitespace",
  "t5",
  "rwkv",
  "plamo2",
  "gemma4",
]);

/** The vocabulary llama.cpp builds its tokenizer from (src/llama-vocab.cpp). */
export function tokenizerProblems(header: GgufHeader): GgufProblem[] {
  const problems = typeProblems(header, TOKENIZER_TYPES);
  const model = metaString(header, "tokenizer.ggml.model");
  if (!header.metadata.has("tokenizer.ggml.model")) {
    problems.push(
      error(
        "missing-key",
        'metadata "tokenizer.ggml.model" is missing; llama.cpp cannot build the tokenizer',
      ),
    );
  }
  if (model === undefined || model === "none" || model === "no_vocab") return problems;
  if (!TOKENIZER_MODELS.has(model)) {
    problems.push(error("tokenizer", `tokenizer "${model}" is unknown to the bundled llama.cpp`));
    return problems;
  }
  const tokens = metaStrings(header, "tokenizer.ggml.tokens");
  if (tokens === undefined) {
    if (!header.metadata.has("tokenizer.ggml.tokens")) {
      problems.push(
        error("missing-key", 'metadata "tokenizer.ggml.tokens" is missing: the file has no vocabulary'),
      );
    }
    return problems;
  }
  for (const key of ["tokenizer.ggml.scores", "tokenizer.ggml.token_type"]) {
    const entry = header.metadata.get(key);
    if (entry?.type === "array" && (entry.value as unknown[]).length < tokens.length) {
      problems.push(
        error(
          "tokenizer",
          `"${key}" has ${(entry.value as unknown[]).length} entries for ${tokens.length} tokens`,
        ),
      );
    }
  }
  const mergesNeeded = ["gpt2", "hybriddna", "whitespace"].includes(model);
  if (
    mergesNeeded &&
    !header.metadata.has("tokenizer.ggml.merges") &&
    metaString(header, "tokenizer.ggml.pre") !== "kimi-k2"
  ) {
    problems.push(
      error("missing-key", `metadata "tokenizer.ggml.merges" is missing; a ${model} tokenizer needs it`),
    );
  }
  if (model === "llama") problems.push(...byteTokenProblems(header, tokens));
  for (const key of ["bos", "eos", "unknown", "padding"].map((name) => `tokenizer.ggml.${name}_token_id`)) {
    const id = metaUint32(header, key);
    if (id !== undefined && id >= tokens.length) {
      problems.push(
        warning(
          "tokenizer",
          `"${key}" is ${id}, outside the ${tokens.length}-token vocabulary; llama.cpp ignores it`,
        ),
      );
    }
  }
  return problems;
}

/**
 * A SentencePiece ("llama") tokenizer falls back to `<0xNN>` tokens for any byte it has no piece
 * for; llama.cpp throws from inside tokenization when one is missing, which aborts the process.
 */
function byteTokenProblems(header: GgufHeader, tokens: string[]): GgufProblem[] {
  const problems: GgufProblem[] = [];
  const ids = new Map(tokens.map((token, id) => [token, id]));
  const types = header.metadata.get("tokenizer.ggml.token_type")?.value as number[] | undefined;
  const missing: string[] = [];
  let wronglyTyped = 0;
  for (let byte = 0; byte < 256; byte++) {
    const piece = `<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`;
    // llama.cpp's fallback looks the byte up as a one-byte string, which only ASCII can match here.
    const id = ids.get(piece) ?? (byte < 0x80 ? ids.get(String.fromCharCode(byte)) : undefined);
    if (id === undefined) missing.push(piece);
    else if (types !== undefined && ids.has(piece) && types[id] !== TOKEN_TYPE.byte) wronglyTyped++;
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 4).join(", ") + (missing.length > 4 ? ", …" : "");
    problems.push(
      error(
        "tokenizer",
        `the SentencePiece vocabulary lacks ${missing.length} byte tokens (${shown}); llama.cpp aborts on text containing them`,
      ),
    );
  }
  const malformed =
    types === undefined
      ? []
      : tokens.filter((token, id) => types[id] === TOKEN_TYPE.byte && !/^<0x[0-9A-Fa-f]{2}>$/.test(token));
  if (malformed.length > 0) {
    problems.push(
      error(
        "tokenizer",
        `${malformed.length} tokens typed as bytes are not of the form <0xNN> (e.g. "${malformed[0]}"); llama.cpp fails reading the vocabulary`,
      ),
    );
  }
  if (wronglyTyped > 0) {
    problems.push(
      warning(
        "tokenizer",
        `${wronglyTyped} byte tokens are not typed as bytes (6); output would show "<0xNN>" literally`,
      ),
    );
  }
  if (!ids.has("\u2581")) {
    problems.push(warning("tokenizer", 'the SentencePiece vocabulary has no space token "\u2581"'));
  }
  return problems;
}
