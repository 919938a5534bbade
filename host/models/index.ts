export {
  assertLoadableGguf,
  type CheckGgufOptions,
  checkGguf,
  type GgufCheck,
  GgufCheckError,
  GgufFormatError,
  type GgufHeader,
  type GgufProblem,
  type GgufProblemCode,
  type GgufTensorInfo,
  readGgufHeader,
} from "./gguf.js";
export { findGgufProblems } from "./gguf-check.js";
export type { GgufMetadataEntry } from "./gguf-reader.js";
export { type HashOptions, type HashProgress, sha256File } from "./hash.js";
export {
  CHAT_WRAPPER_NAMES,
  chatTemplateKind,
  defaultThreads,
  formatManifestError,
  type LoadedManifest,
  loadManifests,
  type ManifestError,
  type ModelManifest,
  type ModelManifestInput,
  modelManifestSchema,
  parseManifest,
} from "./manifest.js";
export { ADD_MAX_CONTEXT, draftManifest, formatManifest, idFromFileName } from "./manifest-format.js";
export { estimateMemoryMb, type ModelShape, modelShape } from "./memory.js";
export { packageModelsDir, resolveModelsDir, TINY_MODEL_RELATIVE_PATH } from "./paths.js";
export { createProgress, formatBytes } from "./progress.js";
export {
  ensureTinyModel,
  type GeneratedModel,
  generateTinyModel,
  TINY_MODEL,
  TINY_MODEL_SHA256,
  tinyModelParts,
} from "./tiny-model.js";
