import { ConfigError, loadConfig } from "./config/index.js";
import { renderJson, renderTable, runChecks } from "./doctor/index.js";

export const DOCTOR_USAGE = `Usage:
  edge-gateway doctor [--config <file>] [serve flags] [--json] [--no-hash]

Loads the configuration exactly as serve does (same flags and GATEWAY_* variables), then checks
what serving needs: Node.js, CPU, memory, disk, the policy core (build/core.wasm and its selftest),
API keys, the listen address, the data directory (a durable write) and the queue database, each
model manifest (file, GGUF header, SHA-256, threads), the cloud and each MCP upstream. Every warn
or fail comes with a fix. Unreachable cloud or MCP upstreams only warn: the gateway serves offline.

  --json       the results as JSON
  --no-hash    skip the SHA-256 of model files (it reads every byte)

Exit codes: 0 fit to serve (ok or warn only), 1 a check failed, 2 bad configuration or usage.
`;

export interface DoctorIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** A hashing progress bar on a terminal; nothing otherwise. */
  stderrIsTTY?: boolean;
  /** build/core.wasm next to the package when absent. */
  wasmPath?: string;
  /** Deadline of each network check (3 s). */
  timeoutMs?: number;
}

/** serve's flags that take a value: the token after them is theirs, even when it reads `--json`. */
const VALUE_FLAGS = new Set(["--config", "--host", "--port", "--data-dir", "--log-level"]);

/** Splits doctor's own flags from serve's, which go to loadConfig untouched. */
function splitArgs(argv: readonly string[]) {
  const serve: string[] = [];
  const own = { json: false, hash: true, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (VALUE_FLAGS.has(arg)) {
      serve.push(arg);
      if (i + 1 < argv.length) serve.push(argv[++i] as string);
    } else if (arg === "--json") own.json = true;
    else if (arg === "--no-hash") own.hash = false;
    else if (arg === "--help" || arg === "-h" || arg === "help") own.help = true;
    else serve.push(arg);
  }
  return { serve, own };
}

/** `edge-gateway doctor …`; returns the exit code. */
export async function runDoctor(argv: readonly string[], io: DoctorIo): Promise<number> {
  const { serve, own } = splitArgs(argv);
  if (own.help) {
    io.stdout(DOCTOR_USAGE);
    return 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ argv: serve, env: io.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const line of error.message.split("\n")) io.stderr(`edge-gateway doctor: ${line}\n`);
    return 2;
  }
  const results = await runChecks(config, {
    hash: own.hash,
    ...(io.stderrIsTTY === true && !own.json ? { progress: io.stderr } : {}),
    ...(io.wasmPath === undefined ? {} : { wasmPath: io.wasmPath }),
    ...(io.timeoutMs === undefined ? {} : { timeoutMs: io.timeoutMs }),
    path: io.env.PATH,
  });
  io.stdout(own.json ? renderJson(results) : renderTable(results));
  return results.some((r) => r.status === "fail") ? 1 : 0;
}
