import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { coerceScalar, schemaAt } from "./coerce.js";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { type GatewayConfig, gatewayConfigSchema } from "./schema.js";
import { ENV_CONFIG_FILE, readEnv, readFlags, type Setting } from "./sources.js";

export interface LoadConfigOptions {
  /** Flags after the subcommand, e.g. `["--port", "9000"]`. */
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  /** Reads the YAML file; injected so tests need no files. */
  readFile?: (path: string) => string;
}

type PlainObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readUtf8(path: string): string {
  return readFileSync(path, "utf8");
}

/**
 * Builds the configuration from, lowest to highest precedence: schema defaults, the YAML file
 * (named by `--config` or `GATEWAY_CONFIG`), `GATEWAY_*` variables, then flags. Throws
 * `ConfigError` naming every bad key and where its value came from.
 */
export function loadConfig({
  argv = [],
  env = {},
  readFile = readUtf8,
}: LoadConfigOptions = {}): GatewayConfig {
  const fromEnv = readEnv(env);
  const fromFlags = readFlags(argv);
  const issues = [...fromEnv.issues, ...fromFlags.issues];

  const filePath = fromFlags.configFile ?? fromEnv.configFile;
  let fileValues: PlainObject = {};
  if (filePath !== undefined) {
    const origin = fromFlags.configFile !== undefined ? "--config" : ENV_CONFIG_FILE;
    const file = readConfigFile(filePath, origin, readFile);
    issues.push(...file.issues);
    fileValues = file.values;
  }

  const merged = structuredClone(fileValues);
  const settingsByKey = new Map<string, Setting>();
  for (const setting of [...fromEnv.settings, ...fromFlags.settings]) {
    const value = coerceScalar(schemaAt(gatewayConfigSchema, setting.path), setting.raw);
    setPath(merged, setting.path, value);
    settingsByKey.set(setting.path.join("."), setting);
  }

  // Validate even after a source failed, so one attempt lists everything to fix.
  const parsed = gatewayConfigSchema.safeParse(merged);
  if (parsed.success && issues.length === 0) return parsed.data;
  if (!parsed.success) {
    const context: IssueContext = { settingsByKey, fileValues, filePath };
    issues.push(...parsed.error.issues.flatMap((issue) => toConfigIssues(issue, context)));
  }
  throw new ConfigError(issues);
}

function readConfigFile(
  path: string,
  origin: string,
  readFile: (path: string) => string,
): { values: PlainObject; issues: ConfigIssue[] } {
  const subject = `config file ${path}`;
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "not found" : `cannot be read (${code ?? String(error)})`;
    return { values: {}, issues: [{ subject, message: reason, source: `from ${origin}` }] };
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    // yaml's pretty message repeats the source below its first line; the position is enough here.
    const issues = doc.errors.map((error) => ({
      subject,
      message: `invalid YAML: ${(error.message.split("\n")[0] ?? "").replace(/:$/, "")}`,
    }));
    return { values: {}, issues };
  }
  const values: unknown = doc.toJS();
  if (values === null || values === undefined) return { values: {}, issues: [] };
  if (!isPlainObject(values)) {
    return { values: {}, issues: [{ subject, message: "expected a mapping of keys at the top level" }] };
  }
  return { values, issues: [] };
}

/** Own-property walk: a path segment such as "constructor" must never reach Object.prototype. */
function setPath(target: PlainObject, path: readonly string[], value: unknown): void {
  let node = target;
  for (const [index, key] of path.entries()) {
    if (index === path.length - 1) {
      Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
      return;
    }
    const existing = Object.hasOwn(node, key) ? node[key] : undefined;
    const child: PlainObject = isPlainObject(existing) ? existing : {};
    if (child !== existing) {
      Object.defineProperty(node, key, {
        value: child,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    node = child;
  }
}

function hasPath(target: unknown, path: readonly string[]): boolean {
  let node = target;
  for (const key of path) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return false;
    node = node[key];
  }
  return true;
}

interface IssueContext {
  settingsByKey: ReadonlyMap<string, Setting>;
  fileValues: PlainObject;
  filePath: string | undefined;
}

/** Keys whose values must not be echoed back in an error message. */
const SECRET_KEY = /key|token|secret|password/i;

function sourceOf(path: readonly string[], context: IssueContext): string | undefined {
  const setting = context.settingsByKey.get(path.join("."));
  if (setting !== undefined) {
    const last = path[path.length - 1] ?? "";
    const shown = SECRET_KEY.test(last) ? "<redacted>" : JSON.stringify(setting.raw);
    return `from ${setting.origin}=${shown}`;
  }
  if (context.filePath !== undefined && hasPath(context.fileValues, path)) return `in ${context.filePath}`;
  return undefined;
}

function withSource(subject: string, message: string, source: string | undefined): ConfigIssue {
  return source === undefined ? { subject, message } : { subject, message, source };
}

function toConfigIssues(issue: z.core.$ZodIssue, context: IssueContext): ConfigIssue[] {
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const known = knownKeys(path);
    const hint = known.length > 0 ? `; expected one of ${known.join(", ")}` : "";
    return issue.keys.map((key) => {
      const keyPath = [...path, key];
      return withSource(keyPath.join("."), `unknown key${hint}`, sourceOf(keyPath, context));
    });
  }
  const subject = path.length > 0 ? path.join(".") : "(top level)";
  return [withSource(subject, describe(issue.message), sourceOf(path, context))];
}

function knownKeys(path: readonly string[]): string[] {
  const node = schemaAt(gatewayConfigSchema, path);
  const shape = (node?._zod.def as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape === undefined ? [] : Object.keys(shape);
}

/** zod's messages, trimmed of their generic lead-in and lower-cased to follow "key: ". */
function describe(message: string): string {
  const trimmed = message.replace(/^Invalid (input|option): /, "");
  return trimmed.charAt(0).toLowerCase() + trimmed.slice(1);
}
