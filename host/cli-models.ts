import { stat, unlink, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { TASK_CLASSES } from "./config/targets.js";
import {
  checkGguf,
  createProgress,
  draftManifest,
  formatBytes,
  formatManifest,
  formatManifestError,
  type GgufProblem,
  idFromFileName,
  type LoadedManifest,
  loadManifests,
  modelManifestSchema,
  resolveModelsDir,
} from "./models/index.js";

export const MODELS_USAGE = `Usage:
  edge-gateway models ls [--dir <dir>]
  edge-gateway models add <file.gguf> [--id <id>] [--alias a,b] [--context <tokens>]
                          [--sequences <n>] [--task-classes chat,code] [--force] [--dir <dir>]
  edge-gateway models verify [id] [--dir <dir>]
  edge-gateway models rm <id> [--delete-file] [--dir <dir>]

The models directory holds one manifest (<id>.yaml) per local model; it is --dir, else
GATEWAY_MODELS_DIR, else the package's models/ directory. "add" reads the GGUF header, checks it
for what llama.cpp would refuse, hashes the file and writes the manifest. "verify" re-checks each
file against its manifest's size and SHA-256. "rm" removes a manifest; --delete-file also deletes
the GGUF file. Exit codes: 0 done, 1 a check failed, 2 bad usage.
`;

export interface ModelsIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal: a redrawn progress bar if so, plain percentage lines if not. */
  stderrIsTTY?: boolean;
}

const OPTIONS = {
  dir: { type: "string" },
  id: { type: "string" },
  alias: { type: "string" },
  context: { type: "string" },
  sequences: { type: "string" },
  "task-classes": { type: "string" },
  force: { type: "boolean" },
  "delete-file": { type: "boolean" },
} as const;

class UsageError extends Error {}

function positiveInt(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${flag} takes a positive integer`);
  return value;
}

function printProblems(problems: readonly GgufProblem[], write: (text: string) => void): void {
  for (const problem of problems) write(`  ${problem.severity}: ${problem.message}\n`);
}

/** `edge-gateway models …`; returns the exit code. */
export async function runModels(argv: readonly string[], io: ModelsIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help") {
    io.stdout(MODELS_USAGE);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({ args: [...rest], options: OPTIONS, allowPositionals: true });
    const dir = resolveModelsDir(values.dir, io.env);
    switch (command) {
      case "ls":
        return await list(dir, io);
      case "add": {
        const [file, ...extra] = positionals;
        if (file === undefined || extra.length > 0) throw new UsageError("add takes one GGUF file");
        return await add(resolve(file), dir, values, io);
      }
      case "verify":
        if (positionals.length > 1) throw new UsageError("verify takes at most one model id");
        return await verify(dir, positionals[0], io);
      case "rm": {
        const [id, ...extra] = positionals;
        if (id === undefined || extra.length > 0) throw new UsageError("rm takes one model id");
        return await remove(dir, id, values["delete-file"] === true, io);
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (
      !(error instanceof UsageError) &&
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") !== true
    ) {
      throw error;
    }
    io.stderr(`edge-gateway models: ${(error as Error).message}\n${MODELS_USAGE}`);
    return 2;
  }
}

async function loadReporting(dir: string, io: ModelsIo) {
  const { manifests, errors } = await loadManifests(dir);
  for (const error of errors) io.stderr(`edge-gateway models: ${formatManifestError(error)}\n`);
  return { manifests, failed: errors.length > 0 };
}

async function list(dir: string, io: ModelsIo): Promise<number> {
  const { manifests, failed } = await loadReporting(dir, io);
  const rows = [["ID", "FILE", "SIZE", "CONTEXT", "SHA256"]];
  for (const manifest of manifests) {
    const size = await stat(manifest.filePath).then(
      (info) => formatBytes(info.size),
      () => "missing",
    );
    const names = [manifest.id, ...manifest.aliases].join(", ");
    rows.push([
      names,
      manifest.file,
      size,
      String(manifest.contextSize),
      manifest.sha256 ? "set" : "not set",
    ]);
  }
  if (manifests.length === 0) io.stdout(`no model manifests in ${dir}\n`);
  else {
    const widths =
      rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
    for (const row of rows)
      io.stdout(
        `${row
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd()}\n`,
      );
  }
  return failed ? 1 : 0;
}

async function add(
  path: string,
  dir: string,
  values: {
    id?: string;
    alias?: string;
    context?: string;
    sequences?: string;
    "task-classes"?: string;
    force?: boolean;
  },
  io: ModelsIo,
): Promise<number> {
  const id = values.id ?? idFromFileName(path);
  const aliases = values.alias?.split(",").map((alias) => alias.trim()) ?? [];
  const taskClasses = values["task-classes"]?.split(",").map((name) => name.trim());
  if (taskClasses?.some((name) => !(TASK_CLASSES as readonly string[]).includes(name))) {
    throw new UsageError(`--task-classes takes ${TASK_CLASSES.join(", ")}`);
  }
  const contextSize = positiveInt("context", values.context);
  const sequences = positiveInt("sequences", values.sequences);
  const manifestPath = join(dir, `${id}.yaml`);
  const existing = await loadManifests(dir);
  const clash = existing.manifests.find(
    (m) =>
      m.manifestPath !== manifestPath && [m.id, ...m.aliases].some((n) => n === id || aliases.includes(n)),
  );
  if (clash !== undefined) {
    io.stderr(`edge-gateway models: "${id}" or an alias is already used by ${clash.manifestPath}\n`);
    return 1;
  }
  if (values.force !== true && (await stat(manifestPath).catch(() => undefined)) !== undefined) {
    io.stderr(`edge-gateway models: ${manifestPath} exists; pass --force to replace it\n`);
    return 1;
  }
  const progress = createProgress({
    label: `hashing ${id}`,
    write: io.stderr,
    isTTY: io.stderrIsTTY === true,
  });
  const check = await checkGguf(path, { computeSha256: true, onProgress: progress.update });
  progress.done();
  if (!check.ok || check.header === undefined) {
    io.stderr(`edge-gateway models: ${path} cannot be loaded by llama.cpp:\n`);
    printProblems(check.problems, io.stderr);
    return 1;
  }
  printProblems(check.problems, io.stderr);
  const fromDir = relative(dir, path);
  const file = fromDir.startsWith("..") || isAbsolute(fromDir) ? path : fromDir;
  const draft = draftManifest(
    { ...check, header: check.header },
    {
      id,
      file,
      aliases,
      ...(contextSize === undefined ? {} : { contextSize }),
      ...(sequences === undefined ? {} : { sequences }),
      ...(taskClasses === undefined ? {} : { taskClasses: taskClasses as LoadedManifest["taskClasses"] }),
    },
  );
  const manifest = modelManifestSchema.safeParse(draft.manifest);
  if (!manifest.success) throw new UsageError(manifest.error.issues.map((issue) => issue.message).join("; "));
  const comment = [`Written by edge-gateway models add on ${new Date().toISOString().slice(0, 10)}.`];
  if (draft.trainedContext !== undefined && draft.trainedContext > manifest.data.contextSize) {
    comment.push(`Trained context: ${draft.trainedContext} tokens; raise contextSize if memory allows.`);
  }
  const text = formatManifest(manifest.data, comment);
  await writeFile(manifestPath, text);
  io.stdout(`added ${id}: ${manifestPath}\n${text}`);
  return 0;
}

async function verify(dir: string, name: string | undefined, io: ModelsIo): Promise<number> {
  const { manifests, failed } = await loadReporting(dir, io);
  const chosen =
    name === undefined ? manifests : manifests.filter((m) => m.id === name || m.aliases.includes(name));
  if (name !== undefined && chosen.length === 0) {
    io.stderr(`edge-gateway models: no manifest with id or alias "${name}" in ${dir}\n`);
    return 1;
  }
  let allOk = !failed;
  for (const manifest of chosen) {
    const progress = createProgress({
      label: `verify ${manifest.id}`,
      write: io.stderr,
      isTTY: io.stderrIsTTY === true,
    });
    const check = await checkGguf(manifest.filePath, {
      computeSha256: true,
      onProgress: progress.update,
      ...(manifest.sha256 === undefined ? {} : { expectedSha256: manifest.sha256 }),
      ...(manifest.sizeBytes === undefined ? {} : { expectedSizeBytes: manifest.sizeBytes }),
    });
    progress.done();
    allOk &&= check.ok;
    if (check.ok) {
      const note =
        manifest.sha256 === undefined ? ` (sha256 not in the manifest; it is ${check.sha256})` : "";
      io.stdout(`${manifest.id}: ok${note}\n`);
    } else io.stdout(`${manifest.id}: FAILED ${manifest.filePath}\n`);
    printProblems(check.problems, io.stdout);
  }
  return allOk ? 0 : 1;
}

async function remove(dir: string, id: string, deleteFile: boolean, io: ModelsIo): Promise<number> {
  const { manifests } = await loadManifests(dir);
  const manifest = manifests.find((m) => m.id === id);
  if (manifest === undefined) {
    io.stderr(`edge-gateway models: no manifest with id "${id}" in ${dir}\n`);
    return 1;
  }
  await unlink(manifest.manifestPath);
  io.stdout(`removed ${manifest.manifestPath}\n`);
  if (!deleteFile) return 0;
  const shared = manifests.find((m) => m !== manifest && m.filePath === manifest.filePath);
  if (shared !== undefined) {
    io.stdout(`kept ${manifest.filePath}: ${shared.id} uses it too\n`);
    return 0;
  }
  await unlink(manifest.filePath).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
  io.stdout(`deleted ${manifest.filePath}\n`);
  return 0;
}
