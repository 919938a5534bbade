import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The gateway's version, from the package.json above this file: host/ under tsx, dist/host/ when built. */
export function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "edge-gateway" && pkg.version !== undefined) return pkg.version;
    }
    dir = dirname(dir);
  }
  return "unknown";
}
