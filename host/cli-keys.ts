import { parseArgs } from "node:util";
import { formatKeyConfigLine, generateApiKey, SCOPES, type Scope } from "./auth/index.js";

const isScope = (s: string): s is Scope => (SCOPES as readonly string[]).includes(s);

export const KEYS_USAGE = `Usage:
  edge-gateway keys create [--id <id>] [--tier <tier>] [--scopes chat,mcp,queue]

Prints a new API key once, and the lines to paste under auth.keys in the config file. Only the
key's SHA-256 is stored; the key itself cannot be shown again.
`;

/** `edge-gateway keys …`; returns the exit code. */
export function runKeys(
  argv: readonly string[],
  stdout: (text: string) => void,
  stderr: (text: string) => void,
): number {
  const [command, ...rest] = argv;
  if (command !== "create") {
    (command === undefined || command === "help" ? stdout : stderr)(KEYS_USAGE);
    return command === undefined || command === "help" ? 0 : 2;
  }
  let values: { id?: string; tier?: string; scopes?: string };
  try {
    values = parseArgs({
      args: [...rest],
      options: { id: { type: "string" }, tier: { type: "string" }, scopes: { type: "string" } },
      strict: true,
    }).values;
  } catch (error) {
    stderr(`edge-gateway keys: ${(error as Error).message}\n`);
    return 2;
  }
  const named = (values.scopes ?? "chat,mcp,queue").split(",").map((s) => s.trim());
  const scopes = named.filter(isScope);
  const bad = named.filter((s) => !isScope(s));
  if (bad.length > 0 || scopes.length === 0) {
    stderr(`edge-gateway keys: unknown scope ${bad.join(", ")}; use chat, mcp, queue, admin\n`);
    return 2;
  }
  const id =
    values.id ?? `key-${new Date().toISOString().slice(0, 10)}-${Math.random().toString(36).slice(2, 8)}`;
  if (!/^[\w.-]{1,64}$/.test(id)) {
    stderr("edge-gateway keys: --id takes 1-64 letters, digits, '.', '_' or '-'\n");
    return 2;
  }
  const { key, sha256 } = generateApiKey();
  stdout(`API key (shown once, store it now):\n\n  ${key}\n\nAdd to the config file under auth.keys:\n\n`);
  stdout(`auth:\n  keys:\n${formatKeyConfigLine({ id, sha256, tier: values.tier ?? "default", scopes })}\n`);
  return 0;
}
