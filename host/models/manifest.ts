import { readdir, readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, extname, isAbsolute, join, resolve } from "node:path";
import { parseDocument } from "yaml";
import { z } from "zod";
import { TASK_CLASSES } from "../config/targets.js";

/**
 * node-llama-cpp's named chat wrappers (`specializedChatWrapperTypeNames` in 3.22). Copied rather
 * than imported so that parsing a manifest never loads the native addon; a test keeps the two in
 * step.
 */
export const CHAT_WRAPPER_NAMES = [
  "general",
  "deepSeek",
  "qwen",
  "llama3.2-lightweight",
  "llama3.1",
  "llama3",
  "llama2Chat",
  "mistral",
  "alpacaChat",
  "functionary",
  "chatML",
  "falconChat",
  "gemma4",
  "gemma",
  "harmony",
  "muse",
  "seed",
] as const;

/** A chat template override is a wrapper name above or a Jinja template (it has `{{` or `{%`). */
export function chatTemplateKind(value: string): "wrapper" | "jinja" | undefined {
  if ((CHAT_WRAPPER_NAMES as readonly string[]).includes(value)) return "wrapper";
  return /\{\{|\{%/.test(value) ? "jinja" : undefined;
}

/**
 * Threads are always explicit: node-llama-cpp's default measured two orders of magnitude slower on
 * a 2-core box. Four is where small models stop gaining on a Pi 5 or an Orin's CPU.
 */
export function defaultThreads(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores));
}

const GPU_LAYERS_MESSAGE = 'expected a layer count (0 = CPU only) or "max"';
const ID_MESSAGE = "expected 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";
const modelId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, { error: ID_MESSAGE });
const positiveInt = (what: string) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .positive({ error: `expected ${what}` });

export const modelManifestSchema = z
  .object({
    id: modelId,
    aliases: z.array(modelId).default([]),
    description: z.string().optional(),
    file: z
      .string({ error: "expected the GGUF file's path" })
      .min(1, { error: "expected the GGUF file's path" }),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/i, { error: "expected 64 hex digits (the file's SHA-256)" })
      .transform((hex) => hex.toLowerCase())
      .optional(),
    sizeBytes: positiveInt("the file size in bytes").optional(),
    contextSize: positiveInt("the context size in tokens, e.g. 4096"),
    threads: positiveInt("a thread count of at least 1").default(() => defaultThreads()),
    gpuLayers: z
      .union([z.number().int().min(0, { error: GPU_LAYERS_MESSAGE }), z.literal("max")], {
        error: GPU_LAYERS_MESSAGE,
      })
      .default(0),
    batchSize: positiveInt("a batch size in tokens").default(512),
    taskClasses: z
      .array(z.enum(TASK_CLASSES, { error: `expected one of ${TASK_CLASSES.join(", ")}` }))
      .min(1, { error: "expected at least one task class" })
      .default(["chat"]),
    memoryMb: positiveInt("an estimate of the memory the loaded model needs, in MB"),
    sequences: positiveInt("a number of concurrent sequences").default(1),
    chatTemplate: z
      .string()
      .refine((value) => chatTemplateKind(value) !== undefined, {
        error: `expected a Jinja template or one of ${CHAT_WRAPPER_NAMES.join(", ")}`,
      })
      .optional(),
  })
  .strict();

export type ModelManifestInput = z.input<typeof modelManifestSchema>;
export type ModelManifest = z.output<typeof modelManifestSchema>;

export interface LoadedManifest extends ModelManifest {
  /** The manifest file it came from. */
  manifestPath: string;
  /** `file` resolved against the manifest's directory. */
  filePath: string;
}

/** One manifest that could not be used, naming the file and, when known, the key. */
export interface ManifestError {
  manifestPath: string;
  key?: string;
  message: string;
}

export function formatManifestError(error: ManifestError): string {
  return `${error.manifestPath}: ${error.key === undefined ? "" : `${error.key}: `}${error.message}`;
}

export const MANIFEST_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

/** Parses one manifest's text; `manifestPath` is used for messages and to resolve `file`. */
export function parseManifest(
  text: string,
  manifestPath: string,
): { manifest: LoadedManifest } | { errors: ManifestError[] } {
  let raw: unknown;
  if (extname(manifestPath) === ".json") {
    try {
      raw = JSON.parse(text);
    } catch (error) {
      return { errors: [{ manifestPath, message: `invalid JSON: ${(error as Error).message}` }] };
    }
  } else {
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) {
      return {
        errors: doc.errors.map((error) => ({
          manifestPath,
          message: `invalid YAML: ${(error.message.split("\n")[0] ?? "").replace(/:$/, "")}`,
        })),
      };
    }
    raw = doc.toJS();
  }
  const parsed = modelManifestSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      errors: parsed.error.issues.map((issue) => {
        if (issue.code === "unrecognized_keys") {
          const key = [...issue.path.map(String), issue.keys.join(", ")].join(".");
          return { manifestPath, key, message: "unknown key; see models/README.md for the fields" };
        }
        const key = issue.path.map(String).join(".");
        return key === ""
          ? { manifestPath, message: issue.message }
          : { manifestPath, key, message: issue.message };
      }),
    };
  }
  const manifest = parsed.data;
  const base = resolve(manifestPath, "..");
  const filePath = isAbsolute(manifest.file) ? manifest.file : join(base, manifest.file);
  return { manifest: { ...manifest, manifestPath, filePath } };
}

/**
 * Reads every `*.yaml`, `*.yml` and `*.json` directly in `dir` (not `examples/` or other
 * subdirectories), in name order. A broken manifest is reported and skipped, never fatal, so one
 * typo does not take the other models down; an id or alias claimed twice keeps the first claim.
 */
export async function loadManifests(
  dir: string,
): Promise<{ manifests: LoadedManifest[]; errors: ManifestError[] }> {
  const manifests: LoadedManifest[] = [];
  const errors: ManifestError[] = [];
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && MANIFEST_EXTENSIONS.has(extname(entry.name)))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? "models directory not found" : `cannot read the directory (${code})`;
    return { manifests, errors: [{ manifestPath: dir, message }] };
  }
  const owners = new Map<string, string>();
  for (const name of entries) {
    const manifestPath = join(dir, name);
    let text: string;
    try {
      text = await readFile(manifestPath, "utf8");
    } catch (error) {
      errors.push({ manifestPath, message: `cannot be read (${(error as NodeJS.ErrnoException).code})` });
      continue;
    }
    const result = parseManifest(text, manifestPath);
    if ("errors" in result) {
      errors.push(...result.errors);
      continue;
    }
    const { manifest } = result;
    const claims = [
      ["id", manifest.id],
      ...manifest.aliases.map((alias, index) => [`aliases.${index}`, alias]),
    ] as const;
    const taken = claims.find(([, name]) => owners.has(name));
    if (taken !== undefined) {
      const [key, claimed] = taken;
      const owner = basename(owners.get(claimed) ?? "");
      errors.push({
        manifestPath,
        key,
        message: `"${claimed}" is already used by ${owner}; manifest skipped`,
      });
      continue;
    }
    for (const [, claimed] of claims) owners.set(claimed, manifestPath);
    manifests.push(manifest);
  }
  return { manifests, errors };
}
