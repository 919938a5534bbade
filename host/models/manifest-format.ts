import { basename } from "node:path";
import { Document, isSeq, visit } from "yaml";
import type { GgufCheck } from "./gguf.js";
import { metaString, metaUint32 } from "./gguf-metadata.js";
import { defaultThreads, type ModelManifest } from "./manifest.js";
import { estimateMemoryMb, modelShape } from "./memory.js";

/** Field order in written manifests: identity, file, then runtime settings, as README lists them. */
const FIELD_ORDER: readonly (keyof ModelManifest)[] = [
  "id",
  "aliases",
  "description",
  "file",
  "sha256",
  "sizeBytes",
  "contextSize",
  "threads",
  "gpuLayers",
  "batchSize",
  "sequences",
  "taskClasses",
  "memoryMb",
  "chatTemplate",
];

/** YAML for a manifest, fields in README order, lists inline, each comment line prefixed `# `. */
export function formatManifest(manifest: ModelManifest, comment: readonly string[] = []): string {
  const ordered: Record<string, unknown> = {};
  for (const key of FIELD_ORDER) if (manifest[key] !== undefined) ordered[key] = manifest[key];
  const doc = new Document(ordered);
  visit(doc, {
    Seq(_, node) {
      if (isSeq(node)) node.flow = true;
    },
  });
  const header = comment.map((line) => (line === "" ? "#" : `# ${line}`)).join("\n");
  return `${header === "" ? "" : `${header}\n`}${doc.toString({ lineWidth: 0, flowCollectionPadding: false })}`;
}

/** `Qwen2.5-0.5B-Instruct-Q4_K_M.gguf` -> `qwen2.5-0.5b-instruct-q4_k_m`, valid as a manifest id. */
export function idFromFileName(path: string): string {
  const stem = basename(path)
    .replace(/\.gguf$/i, "")
    .toLowerCase();
  const cleaned = stem.replace(/[^a-z0-9._-]+/g, "-").replace(/^[^a-z0-9]+/, "");
  return (cleaned === "" ? "model" : cleaned).slice(0, 64);
}

/**
 * Trained contexts run to 128k tokens, whose KV cache alone outgrows an edge device; a new
 * manifest starts here and says so. Raise `contextSize` where the memory allows.
 */
export const ADD_MAX_CONTEXT = 4096;

export interface DraftOptions {
  id: string;
  /** As it will be written: relative to the manifest's directory or absolute. */
  file: string;
  contextSize?: number;
  sequences?: number;
  taskClasses?: ModelManifest["taskClasses"];
  aliases?: string[];
}

/** A manifest filled from a checked GGUF (which must have been hashed). */
export function draftManifest(check: Required<Pick<GgufCheck, "header">> & GgufCheck, options: DraftOptions) {
  const { header } = check;
  const arch = metaString(header, "general.architecture") ?? "unknown";
  const trainedContext = metaUint32(header, `${arch}.context_length`);
  const contextSize = options.contextSize ?? Math.min(trainedContext ?? ADD_MAX_CONTEXT, ADD_MAX_CONTEXT);
  const sequences = options.sequences ?? 1;
  const batchSize = Math.min(512, contextSize);
  const shape = modelShape(header);
  const name = metaString(header, "general.name");
  const manifest: ModelManifest = {
    id: options.id,
    aliases: options.aliases ?? [],
    description: `${name ?? basename(options.file)} (${arch})`,
    file: options.file,
    sha256: check.sha256,
    sizeBytes: header.fileSizeBytes,
    contextSize,
    threads: defaultThreads(),
    gpuLayers: 0,
    batchSize,
    sequences,
    taskClasses: options.taskClasses ?? ["chat"],
    memoryMb: estimateMemoryMb({
      fileSizeBytes: header.fileSizeBytes,
      contextSize,
      sequences,
      batchSize,
      ...(shape === undefined ? {} : { shape }),
    }),
  };
  return { manifest, trainedContext };
}
