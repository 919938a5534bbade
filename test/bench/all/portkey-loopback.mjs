// Preload for Portkey's published Node entry (build/start-server.js), which calls @hono/node-server's
// serve({ fetch, port }) with no hostname and so listens on every interface. Loaded with
// `node --import`, this registers module hooks that hand that one file a `serve` adding
// hostname "127.0.0.1"; everything else (Portkey's app, its own @hono/node-server 1.13.5) is its own.
// Plain JavaScript so Portkey runs under plain node, as our gateway does, with no tsx in its memory.
import { register } from "node:module";
import { isMainThread } from "node:worker_threads";

const PORTKEY_ENTRY = "/@portkey-ai/gateway/build/start-server.js";
const SHIM = "edge-bench-loopback:serve";
const LOOPBACK = "127.0.0.1";

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (specifier !== "@hono/node-server" || !context.parentURL?.endsWith(PORTKEY_ENTRY)) return resolved;
  return { url: `${SHIM}?${encodeURIComponent(resolved.url)}`, format: "module", shortCircuit: true };
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith(`${SHIM}?`)) return nextLoad(url, context);
  const real = JSON.stringify(decodeURIComponent(url.slice(SHIM.length + 1)));
  // A local export shadows the same name from `export *`, so only serve changes.
  const source = [
    `import { serve as realServe } from ${real};`,
    `export * from ${real};`,
    `export const serve = (options, listening) => realServe({ ...options, hostname: "${LOOPBACK}" }, listening);`,
  ].join("\n");
  return { format: "module", source, shortCircuit: true };
}

// Module hooks run on their own thread, which loads this file again: register only from the main one.
if (isMainThread) register(import.meta.url);
