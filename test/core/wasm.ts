import { readFileSync } from "node:fs";
import { instantiateSync } from "@assemblyscript/loader";
import { defaultWasmPath } from "../../host/core/core.js";
import type { CoreExports } from "../../host/core/exports.js";

/** The module under test: build/core.wasm, or CORE_WASM to check a deliberately broken variant. */
export const wasmPath = process.env.CORE_WASM ?? defaultWasmPath();
const module = new WebAssembly.Module(readFileSync(wasmPath));

/** A fresh instance's raw exports. */
export function freshWasm(): CoreExports {
  return instantiateSync(module).instance.exports as unknown as CoreExports;
}
