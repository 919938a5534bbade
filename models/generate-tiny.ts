import { realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type GeneratedModel, generateTinyModel } from "../host/models/tiny-model.js";

/**
 * Writes the tiny demo model (a llama GGUF with random weights from a fixed seed; it produces
 * nonsense) so the gateway runs end to end without a download. `npm install` runs this through
 * the `prepare` script. Usage: node --import tsx models/generate-tiny.ts [outPath]
 */

export { type GeneratedModel, generateTinyModel };

export const DEFAULT_TINY_MODEL_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  "tiny",
  "tiny-demo.gguf",
);

function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  const outPath = resolve(process.argv[2] ?? DEFAULT_TINY_MODEL_PATH);
  const model = await generateTinyModel(outPath);
  process.stdout.write(
    `tiny demo model (nonsense text, not a real model): ${model.path}\n  ${model.bytes} bytes, sha256 ${model.sha256}\n`,
  );
}
