import { runDoctor } from "./cli-doctor.js";
import { runKeys } from "./cli-keys.js";
import { runModels } from "./cli-models.js";
import { runQueue } from "./cli-queue.js";
import { ConfigError, DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, loadConfig } from "./config/index.js";
import { createLogger } from "./logger.js";
import { startGateway } from "./main.js";
import { readVersion } from "./version.js";

export const PROGRAM = "edge-gateway";

export const USAGE = `${PROGRAM} - edge LLM and MCP gateway

Usage:
  ${PROGRAM} [serve] [flags]   start the gateway (the default command)
  ${PROGRAM} keys create [--id ID] [--tier T] [--scopes chat,mcp,queue]
                             print a new API key and its config line
  ${PROGRAM} models ls|add <file.gguf>|verify [id]|rm <id>
                             manage local model manifests (models/)
  ${PROGRAM} queue ls|show <id>|retry <id>|purge|stats
                             inspect and repair the offline queue (data dir)
  ${PROGRAM} doctor [flags] [--json] [--no-hash]
                             check this machine and configuration before serving
  ${PROGRAM} help              show this text
  ${PROGRAM} --version         print the version

Flags override GATEWAY_* variables, which override the config file:
  --config <file>       YAML config file              GATEWAY_CONFIG
  --host <address>      address to bind               GATEWAY_HOST       (${DEFAULT_HOST})
  --port <number>       port; 0 picks a free one      GATEWAY_PORT       (${DEFAULT_PORT})
  --data-dir <dir>      queue and state directory     GATEWAY_DATA_DIR   (${DEFAULT_DATA_DIR})
  --log-level <level>   fatal error warn info debug trace silent
                                                      GATEWAY_LOG_LEVEL  (info)

Any other key is set as GATEWAY_<SECTION>__<KEY>, words split by "_", levels by "__":
  GATEWAY_CORE__LIMITER__CAPACITY=5000 sets core.limiter.capacity.

Cloud and keys: GATEWAY_CLOUD_URL (base URL ending in /v1), GATEWAY_CLOUD_API_KEY,
  GATEWAY_API_KEYS (key or key:tier, comma-separated).

Endpoints: POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models, POST /mcp (MCP),
  GET / (status page), GET /health (liveness), GET /ready (503 until ready), GET /metrics.
Exit codes: 0 stopped cleanly, 1 failed to start, 2 bad configuration or usage.
`;

export interface CliIo {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Progress bars only on a terminal. */
  stderrIsTTY?: boolean;
}

const HELP = new Set(["help", "--help", "-h"]);
const VERSION = new Set(["version", "--version", "-v"]);

/**
 * The command line without the process around it: returns the exit code instead of exiting, so
 * every branch but `serve` is testable in-process. `serve` resolves when the gateway has closed.
 */
export async function runCli({ argv, env, stdout, stderr, stderrIsTTY }: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "keys") return runKeys(rest, stdout, stderr);
  if (first === "models") return runModels(rest, { env, stdout, stderr, stderrIsTTY });
  if (first === "queue") return runQueue(rest, { env, stdout, stderr });
  if (first === "doctor") return runDoctor(rest, { env, stdout, stderr, stderrIsTTY });
  const serveArgs =
    first === undefined || first.startsWith("-") ? argv : first === "serve" ? rest : undefined;
  if ((first !== undefined && HELP.has(first)) || serveArgs?.some((arg) => HELP.has(arg))) {
    stdout(USAGE);
    return 0;
  }
  if ((first !== undefined && VERSION.has(first)) || serveArgs?.some((arg) => VERSION.has(arg))) {
    stdout(`${readVersion()}\n`);
    return 0;
  }
  if (serveArgs === undefined) {
    stderr(`${PROGRAM}: unknown command ${JSON.stringify(first)}; see ${PROGRAM} --help\n`);
    return 2;
  }
  return serve(serveArgs, env, stderr);
}

async function serve(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  stderr: (text: string) => void,
): Promise<number> {
  try {
    const config = loadConfig({ argv, env });
    const logger = createLogger({ level: config.log.level });
    try {
      const gateway = await startGateway(config, { logger });
      await gateway.closed;
      return 0;
    } catch (error) {
      logger.fatal({ err: error }, "start-up failed");
      throw error;
    }
  } catch (error) {
    // Operators read these on a terminal or in journald: the message, not a stack trace.
    const message = error instanceof Error ? error.message : String(error);
    for (const line of message.split("\n")) stderr(`${PROGRAM}: ${line}\n`);
    return error instanceof ConfigError ? 2 : 1;
  }
}
