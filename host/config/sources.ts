import { parseArgs } from "node:util";
import type { ConfigIssue } from "./errors.js";

/** One string value from the environment or the command line, headed for a config key. */
export interface Setting {
  path: readonly string[];
  raw: string;
  /** The variable or flag that carried it, for error messages: `GATEWAY_PORT`, `--port`. */
  origin: string;
}

export interface SourceResult {
  settings: Setting[];
  /** Config file path named by this source, if any. */
  configFile?: string;
  issues: ConfigIssue[];
}

export const ENV_PREFIX = "GATEWAY_";
export const ENV_CONFIG_FILE = "GATEWAY_CONFIG";

/** Short names for the keys an operator sets most; every key also has the generic `__` form. */
export const ENV_ALIASES: Readonly<Record<string, readonly string[]>> = {
  GATEWAY_HOST: ["server", "host"],
  GATEWAY_PORT: ["server", "port"],
  GATEWAY_DATA_DIR: ["server", "dataDir"],
  GATEWAY_LOG_LEVEL: ["log", "level"],
  GATEWAY_CLOUD_URL: ["cloud", "url"],
  GATEWAY_CLOUD_API_KEY: ["cloud", "apiKey"],
  GATEWAY_CLOUD_MODEL: ["cloud", "model"],
  GATEWAY_API_KEYS: ["auth", "envKeys"],
  GATEWAY_MODELS_DIR: ["models", "dir"],
};

/** Flag name -> config key. `--config` is handled apart: it names the file, not a key. */
export const FLAG_PATHS: Readonly<Record<string, readonly string[]>> = {
  host: ["server", "host"],
  port: ["server", "port"],
  "data-dir": ["server", "dataDir"],
  "log-level": ["log", "level"],
};

/** `LIMITER` -> `limiter`, `IDLE_MS` -> `idleMs`: env names are upper snake, keys are camelCase. */
function segmentToKey(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_match, next: string) => next.toUpperCase());
}

/** `limiter` -> `LIMITER`, `idleMs` -> `IDLE_MS`: the inverse of segmentToKey. */
function keyToSegment(key: string): string {
  return key.replace(/[A-Z]/g, (upper) => `_${upper}`).toUpperCase();
}

/**
 * The variable that sets the key at `path`: its alias when it has one, else the nested
 * `GATEWAY_A__B_C` form. Undefined when no name leads back to the key (readEnv would set another),
 * so documentation never offers a variable that does not work.
 */
export function envNameFor(path: readonly string[]): string | undefined {
  const dotted = path.join(".");
  for (const [name, aliasPath] of Object.entries(ENV_ALIASES)) {
    if (aliasPath.join(".") === dotted) return name;
  }
  const name = ENV_PREFIX + path.map(keyToSegment).join("__");
  return envNameToPath(name)?.join(".") === dotted ? name : undefined;
}

/**
 * Reads `GATEWAY_*` variables. `GATEWAY_A__B_C` sets `a.bC`: a double underscore separates
 * levels, a single one starts a new word. An unknown single-level name is an error rather than
 * ignored, because a typo such as `GATEWAY_PROT` would otherwise start the gateway on the wrong
 * port without a word. Empty values count as unset, as compose files often pass `VAR=`.
 */
export function readEnv(env: Readonly<Record<string, string | undefined>>): SourceResult {
  const result: SourceResult = { settings: [], issues: [] };
  const seen = new Map<string, string>();
  const names = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX))
    .sort();
  for (const name of names) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    if (name === ENV_CONFIG_FILE) {
      result.configFile = raw;
      continue;
    }
    const path = envNameToPath(name);
    if (path === undefined) {
      result.issues.push({
        subject: name,
        message: `unknown environment variable; use ${Object.keys(ENV_ALIASES).join(", ")}, ${ENV_CONFIG_FILE} or the GATEWAY_SECTION__KEY form`,
      });
      continue;
    }
    const dotted = path.join(".");
    const earlier = seen.get(dotted);
    if (earlier !== undefined) {
      result.issues.push({ subject: dotted, message: `set by both ${earlier} and ${name}; keep one` });
      continue;
    }
    seen.set(dotted, name);
    result.settings.push({ path, raw, origin: name });
  }
  return result;
}

function envNameToPath(name: string): readonly string[] | undefined {
  const alias = ENV_ALIASES[name];
  if (alias !== undefined) return alias;
  const rest = name.slice(ENV_PREFIX.length);
  if (!rest.includes("__")) return undefined;
  const segments = rest.split("__");
  if (segments.some((segment) => segment === "")) return undefined;
  return segments.map(segmentToKey);
}

const FLAG_OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  "data-dir": { type: "string" },
  "log-level": { type: "string" },
  config: { type: "string" },
} as const;

/**
 * Reads the `serve` flags. parseArgs runs non-strict so each problem becomes an issue naming the
 * flag instead of Node's generic exception, and so all of them are reported at once.
 */
export function readFlags(argv: readonly string[]): SourceResult {
  const result: SourceResult = { settings: [], issues: [] };
  const { tokens } = parseArgs({
    args: [...argv],
    options: FLAG_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === "positional") {
      result.issues.push({ subject: JSON.stringify(token.value), message: "unexpected argument" });
      continue;
    }
    if (token.kind !== "option") continue;
    if (!Object.hasOwn(FLAG_OPTIONS, token.name)) {
      result.issues.push({ subject: token.rawName, message: "unknown option; see edge-gateway --help" });
      continue;
    }
    // A separate value that starts with "-" is more likely a forgotten value than a real one.
    const value = token.value;
    if (value === undefined) {
      result.issues.push({ subject: token.rawName, message: "expected a value" });
      continue;
    }
    if (!token.inlineValue && value.startsWith("-")) {
      result.issues.push({
        subject: token.rawName,
        message: `expected a value, got ${JSON.stringify(value)} (write ${token.rawName}=VALUE if it really starts with "-")`,
      });
      continue;
    }
    if (token.name === "config") {
      result.configFile = value;
      continue;
    }
    const path = FLAG_PATHS[token.name];
    if (path !== undefined) result.settings.push({ path, raw: value, origin: token.rawName });
  }
  return result;
}
