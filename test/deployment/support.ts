import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, parseDocument } from "yaml";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DEPLOYMENT = join(REPO, "deployment");

export function deploymentPath(...parts: string[]): string {
  return join(DEPLOYMENT, ...parts);
}

export function readText(path: string): string {
  return readFileSync(path, "utf8");
}

/** One YAML document; throws with yaml's message (line and column) on any syntax error. */
export function readYaml<T = Record<string, unknown>>(path: string): T {
  const doc = parseDocument(readText(path), { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join("; ")}`);
  return doc.toJS() as T;
}

/** Every document of a multi-document YAML file. */
export function readYamlDocuments(path: string): Record<string, unknown>[] {
  return parseAllDocuments(readText(path), { prettyErrors: true, uniqueKeys: true }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join("; ")}`);
    return doc.toJS() as Record<string, unknown>;
  });
}

/** Absolute path of a command on PATH, or undefined. */
export function findTool(name: string): string | undefined {
  const res = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const path = res.stdout.trim();
  return res.status === 0 && path !== "" && existsSync(path) ? path : undefined;
}

/**
 * Whether to skip a check that needs `tool`: only on a developer's machine without it. In CI
 * (`CI` set, where .ci/run installs every such tool) a missing tool is an error, never a skip.
 */
export function skipWithout(tool: string): boolean {
  if (findTool(tool) !== undefined) return false;
  if (process.env.CI) throw new Error(`${tool} is missing; .ci/run installs it`);
  return true;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): RunResult {
  const res = spawnSync(command, args, { encoding: "utf8", timeout: 60_000, ...options });
  if (res.error) throw res.error;
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** `KEY=value` lines of an environment file; comments and blank lines skipped. */
export function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readText(path).split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const eq = trimmed.indexOf("=");
    if (eq <= 0) throw new Error(`${path}: not KEY=value: ${line}`);
    env[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return env;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Walks a parsed document by keys and indices, failing with the path that does not exist. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let node = value;
  for (const [i, key] of path.entries()) {
    const next =
      typeof key === "number"
        ? Array.isArray(node)
          ? node[key]
          : undefined
        : isRecord(node)
          ? node[key]
          : undefined;
    if (next === undefined) throw new Error(`missing ${path.slice(0, i + 1).join(".")}`);
    node = next;
  }
  return node;
}
