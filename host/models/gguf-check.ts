import { LLAMA_CPP_ARCHITECTURES, RMS_NORM_ARCHITECTURES } from "./gguf-architectures.js";
import { llamaTensorProblems } from "./gguf-check-llama.js";
import { tokenizerProblems } from "./gguf-check-tokenizer.js";
import { alignUp, GGML_MAX_NAME, GGML_TYPES } from "./gguf-format.js";
import { describeType, error, type GgufProblem, metaUint32, typeProblems, warning } from "./gguf-metadata.js";
import type { GgufHeader } from "./gguf-reader.js";

/** The type llama.cpp insists on for keys it reads (it compares types exactly, no widening). */
const KEY_TYPES: ReadonlyArray<readonly [suffix: string, types: readonly string[]]> = [
  ["context_length", ["uint32"]],
  ["embedding_length", ["uint32"]],
  ["block_count", ["uint32"]],
  ["feed_forward_length", ["uint32", "array of uint32", "array of int32"]],
  ["attention.head_count", ["uint32", "array of uint32", "array of int32"]],
  ["attention.head_count_kv", ["uint32", "array of uint32", "array of int32"]],
  ["attention.key_length", ["uint32"]],
  ["attention.value_length", ["uint32"]],
  ["attention.layer_norm_rms_epsilon", ["float32"]],
  ["attention.layer_norm_epsilon", ["float32"]],
  ["rope.dimension_count", ["uint32"]],
  ["rope.freq_base", ["float32"]],
  ["vocab_size", ["uint32"]],
  ["expert_count", ["uint32"]],
];

function containerProblems(header: GgufHeader): GgufProblem[] {
  const problems: GgufProblem[] = [];
  for (const key of new Set(header.duplicateKeys)) {
    problems.push(error("duplicate-key", `metadata key "${key}" appears more than once`));
  }
  const alignment = header.metadata.get("general.alignment");
  if (alignment !== undefined) {
    const value = Number(alignment.value);
    if (alignment.type !== "uint32") {
      problems.push(
        error("wrong-type", `"general.alignment" is ${alignment.type}; llama.cpp requires uint32`),
      );
    } else if (value === 0 || (value & (value - 1)) !== 0) {
      problems.push(error("bad-alignment", `"general.alignment" is ${value}, not a power of two`));
    }
  }
  const seen = new Set<string>();
  let expectedOffset = 0;
  let offsetsOk = true;
  for (const tensor of header.tensors) {
    const type = GGML_TYPES.get(tensor.type);
    if (tensor.name.length >= GGML_MAX_NAME) {
      problems.push(
        error("bad-tensor", `tensor name "${tensor.name}" is longer than ${GGML_MAX_NAME - 1} bytes`),
      );
    }
    if (seen.has(tensor.name))
      problems.push(error("duplicate-tensor", `tensor "${tensor.name}" appears twice`));
    seen.add(tensor.name);
    if (type === undefined) {
      problems.push(
        error(
          "bad-tensor",
          `tensor "${tensor.name}" has ggml type ${tensor.type}, which the bundled llama.cpp does not know`,
        ),
      );
      offsetsOk = false;
      continue;
    }
    if ((tensor.dims[0] ?? 1) % type.blockSize !== 0) {
      problems.push(
        error(
          "bad-tensor",
          `tensor "${tensor.name}" rows of ${tensor.dims[0]} are not a multiple of ${type.name}'s block of ${type.blockSize}`,
        ),
      );
    }
    if (offsetsOk && tensor.offsetBytes !== expectedOffset) {
      problems.push(
        error(
          "tensor-offset",
          `tensor "${tensor.name}" has data offset ${tensor.offsetBytes}, expected ${expectedOffset}`,
        ),
      );
      offsetsOk = false;
    }
    expectedOffset = alignUp(expectedOffset + (tensor.sizeBytes ?? 0), header.alignment);
  }
  const beyond = header.tensors.find(
    (tensor) => header.dataOffsetBytes + tensor.offsetBytes + (tensor.sizeBytes ?? 0) > header.fileSizeBytes,
  );
  if (beyond !== undefined) {
    const end = header.dataOffsetBytes + beyond.offsetBytes + (beyond.sizeBytes ?? 0);
    problems.push(
      error(
        "truncated",
        `tensor "${beyond.name}" ends at byte ${end} but the file has ${header.fileSizeBytes} bytes: the file is truncated (an incomplete download?)`,
      ),
    );
  }
  return problems;
}

function hyperParameterProblems(header: GgufHeader, arch: string): GgufProblem[] {
  const problems = typeProblems(
    header,
    KEY_TYPES.map(([suffix, types]) => [`${arch}.${suffix}`, types] as const),
  );
  const required = ["context_length", "embedding_length", "block_count"];
  if (RMS_NORM_ARCHITECTURES.has(arch)) required.push("attention.layer_norm_rms_epsilon");
  for (const suffix of required) {
    if (!header.metadata.has(`${arch}.${suffix}`)) {
      problems.push(
        error(
          "missing-key",
          `metadata "${arch}.${suffix}" is missing; llama.cpp needs it to load a ${arch} model`,
        ),
      );
    }
  }
  const layers = metaUint32(header, `${arch}.block_count`);
  if (layers !== undefined && (layers === 0 || layers > 512)) {
    problems.push(
      error("bad-value", `"${arch}.block_count" is ${layers}; llama.cpp accepts 1 to 512 layers`),
    );
  }
  return problems;
}

/**
 * Everything in a readable header that llama.cpp would refuse (errors) or that would make the
 * model misbehave (warnings). Pure: the header is all it looks at.
 */
export function findGgufProblems(header: GgufHeader): GgufProblem[] {
  const problems = containerProblems(header);
  const arch = header.metadata.get("general.architecture");
  if (arch === undefined) {
    problems.push(
      error(
        "missing-key",
        'metadata "general.architecture" is missing; llama.cpp cannot tell what model this is',
      ),
    );
    return [...problems, ...tokenizerProblems(header)];
  }
  if (arch.type !== "string") {
    problems.push(
      error(
        "wrong-type",
        `"general.architecture" is ${describeType(header, "general.architecture")}; expected string`,
      ),
    );
    return [...problems, ...tokenizerProblems(header)];
  }
  const name = arch.value as string;
  if (!LLAMA_CPP_ARCHITECTURES.has(name)) {
    problems.push(
      warning(
        "unknown-architecture",
        `architecture "${name}" is unknown to the bundled llama.cpp, which will refuse it`,
      ),
    );
  }
  problems.push(...hyperParameterProblems(header, name), ...tokenizerProblems(header));
  if (name === "llama" && !problems.some((p) => p.severity === "error"))
    problems.push(...llamaTensorProblems(header));
  return problems;
}
