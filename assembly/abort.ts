// The default abort imports `env.abort` from the host; the core must stay import-free so it runs
// unchanged under wasm-interp or wasmtime. Any abort (an out-of-range access the compiler guards)
// becomes a plain trap, and the host re-instantiates the module.
export function coreAbort(
  message: string | null,
  fileName: string | null,
  lineNumber: u32,
  columnNumber: u32,
): void {
  unreachable();
}
