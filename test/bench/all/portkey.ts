/**
 * The peer: Portkey's open-source gateway (@portkey-ai/gateway, a devDependency) run from its
 * published Node entry, build/start-server.js, under plain node as our own gateway runs. That entry
 * listens on every interface; portkey-loopback.mjs, loaded with --import, makes it listen on
 * 127.0.0.1 only without touching its code. NODE_ENV=production and --headless leave out its log UI,
 * as an operator would run it in production. It resolves its own @hono/node-server (1.13.5, pinned
 * through the package.json override it needs) while ours stays on ^1.19.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { freePort } from "../../support/free-port.js";
import { type Child, exitedEarly, REPO_ROOT, spawnChild } from "../http/processes.js";

const READY_TIMEOUT_MS = 30_000;

/** Headers that route a request through Portkey to an OpenAI-compatible upstream at `baseUrl` (ending in /v1). */
export function portkeyHeaders(baseUrl: string): Record<string, string> {
  return { "x-portkey-provider": "openai", "x-portkey-custom-host": baseUrl };
}

export function portkeyVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("@portkey-ai/gateway/package.json") as { version: string }).version;
}

/** Starts Portkey on a free loopback port; ready once it answers HTTP at all. */
export async function startPortkey(): Promise<{ child: Child; origin: string; version: string }> {
  const require = createRequire(import.meta.url);
  const entry = join(dirname(require.resolve("@portkey-ai/gateway/package.json")), "build/start-server.js");
  const port = await freePort();
  const child = spawnChild(
    "portkey",
    [
      "--import",
      join(REPO_ROOT, "test/bench/all/portkey-loopback.mjs"),
      entry,
      `--port=${port}`,
      "--headless",
    ],
    { ...process.env, NODE_ENV: "production" },
  );
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const early = exitedEarly(child, "portkey");
    if (early) throw early;
    try {
      const res = await request(`${origin}/`);
      await res.body.dump();
      return { child, origin, version: portkeyVersion() };
    } catch {
      // Not listening yet: its entry waits a second on a start-up spinner before it logs.
    }
    await sleep(50);
  }
  await child.stop();
  throw new Error(`portkey did not answer within ${READY_TIMEOUT_MS / 1000} s:\n${child.output()}`);
}
