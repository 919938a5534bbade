import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** How to start the runner child: its entry file and the Node flags it needs. */
export interface ChildEntry {
  file: string;
  execArgv: string[];
}

/** The part of esbuild's API used here; esbuild comes with tsx, which running from source needs anyway. */
interface EsbuildApi {
  buildSync(options: Record<string, unknown>): { outputFiles: { text: string }[] };
}

let bundled: ChildEntry | undefined;

/**
 * The child next to this module: `child.js` when the gateway runs from `dist/` (built). From source
 * (tests, `tsx host/cli.ts`) `child.ts` is bundled once with esbuild into node_modules/.cache and run
 * by plain node: under tsx's loader hooks the child took twice as long to start (about 2 s instead of
 * 0.8 s), and its start is the runner's restart time. Without esbuild, tsx's loader it is.
 */
export function defaultChildEntry(): ChildEntry {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith(".ts")) return { file: join(dirname(here), "child.js"), execArgv: [] };
  bundled ??= bundleSource(join(dirname(here), "child.ts"));
  return bundled;
}

function bundleSource(source: string): ChildEntry {
  const require = createRequire(import.meta.url);
  let esbuild: EsbuildApi;
  try {
    esbuild = require("esbuild") as EsbuildApi;
  } catch {
    return { file: source, execArgv: ["--import", pathToFileURL(require.resolve("tsx")).href] };
  }
  const { outputFiles } = esbuild.buildSync({
    entryPoints: [source],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // node-llama-cpp and the rest stay imports, resolved from the repository's node_modules.
    packages: "external",
    sourcemap: "inline",
    write: false,
  });
  const text = outputFiles[0]?.text ?? "";
  const cacheDir = join(dirname(require.resolve("tsx/package.json")), "..", ".cache", "edge-gateway");
  const file = join(
    cacheDir,
    `runner-child-${createHash("sha256").update(text).digest("hex").slice(0, 16)}.mjs`,
  );
  if (!existsSync(file)) {
    mkdirSync(cacheDir, { recursive: true });
    // Write then rename: parallel test workers may bundle at once, and a reader must see a whole file.
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, text);
    renameSync(partial, file);
    pruneStaleBundles(cacheDir, file);
  }
  return { file, execArgv: ["--enable-source-maps"] };
}

/** Bundles of earlier sources, an hour old: a process started from one may still restart its child. */
function pruneStaleBundles(cacheDir: string, current: string): void {
  const cutoffMs = Date.now() - 3_600_000;
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (!name.startsWith("runner-child-") || path === current) continue;
    try {
      if (statSync(path).mtimeMs < cutoffMs) rmSync(path, { force: true });
    } catch {
      // Another process pruned it first.
    }
  }
}
