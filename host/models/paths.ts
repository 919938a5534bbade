import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_NAME = "edge-gateway";

/** `models/` beside the package.json above this file: host/models/ under tsx, dist/host/models/ built. */
export function packageModelsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string };
      if (pkg.name === PACKAGE_NAME) return join(dir, "models");
    }
    dir = dirname(dir);
  }
  return resolve("models");
}

/** `--dir`, else GATEWAY_MODELS_DIR, else the package's own models/ (which holds the tiny model). */
export function resolveModelsDir(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
) {
  return resolve(flag ?? env.GATEWAY_MODELS_DIR ?? packageModelsDir());
}

/** Where the generator writes the tiny demo model inside a models directory. */
export const TINY_MODEL_RELATIVE_PATH = join("tiny", "tiny-demo.gguf");
