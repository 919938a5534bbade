import { findGgufProblems } from "./gguf-check.js";
import { error, type GgufProblem } from "./gguf-metadata.js";
import { GgufFormatError, type GgufHeader, readGgufHeader } from "./gguf-reader.js";
import { type HashProgress, sha256File } from "./hash.js";

export type { GgufProblem, GgufProblemCode } from "./gguf-metadata.js";
export { GgufFormatError, type GgufHeader, type GgufTensorInfo, readGgufHeader } from "./gguf-reader.js";

export interface CheckGgufOptions {
  /** Verified with a streaming hash when given (lowercase or uppercase hex). */
  expectedSha256?: string;
  /** Compared with the file size before hashing; a mismatch (like any error) skips the hash. */
  expectedSizeBytes?: number;
  /** Hash even without an expected value, e.g. to record it in a new manifest. */
  computeSha256?: boolean;
  onProgress?: (progress: HashProgress) => void;
  signal?: AbortSignal;
}

export interface GgufCheck {
  /** No problem of severity "error": llama.cpp should load the file. */
  ok: boolean;
  problems: GgufProblem[];
  /** Absent when the header could not be read at all. */
  header?: GgufHeader;
  /** Present when the file was hashed. */
  sha256?: string;
}

/**
 * Checks a model file before it is handed to llama.cpp: the header (never the tensor data) for
 * what llama.cpp would abort or throw on, then the size and SHA-256 when the manifest gives them.
 * The hash, the only slow step, runs last and only when nothing else is wrong.
 */
export async function checkGguf(path: string, options: CheckGgufOptions = {}): Promise<GgufCheck> {
  let header: GgufHeader;
  try {
    header = await readGgufHeader(path);
  } catch (cause) {
    if (!(cause instanceof GgufFormatError)) throw cause;
    return { ok: false, problems: [error(cause.code, cause.message)] };
  }
  const problems = findGgufProblems(header);
  const { expectedSha256, expectedSizeBytes } = options;
  if (expectedSizeBytes !== undefined && expectedSizeBytes !== header.fileSizeBytes) {
    problems.push(
      error(
        "size-mismatch",
        `the file has ${header.fileSizeBytes} bytes; the manifest expects ${expectedSizeBytes} (not hashed)`,
      ),
    );
  }
  let sha256: string | undefined;
  // A file llama.cpp would refuse is not hashed: minutes of reading a 4 GB file change nothing.
  const loadable = !problems.some((problem) => problem.severity === "error");
  if (loadable && (expectedSha256 !== undefined || options.computeSha256 === true)) {
    sha256 = await sha256File(path, { onProgress: options.onProgress, signal: options.signal });
    if (expectedSha256 !== undefined && sha256 !== expectedSha256.toLowerCase()) {
      problems.push(
        error(
          "sha256-mismatch",
          `SHA-256 is ${sha256}; the manifest expects ${expectedSha256.toLowerCase()}`,
        ),
      );
    }
  }
  const ok = !problems.some((problem) => problem.severity === "error");
  return sha256 === undefined ? { ok, problems, header } : { ok, problems, header, sha256 };
}

/** Thrown by assertLoadableGguf; the message lists every error, one per line, after the path. */
export class GgufCheckError extends Error {
  override readonly name = "GgufCheckError";
  constructor(
    readonly path: string,
    readonly problems: readonly GgufProblem[],
  ) {
    super(
      `${path} cannot be loaded:\n${problems
        .filter((problem) => problem.severity === "error")
        .map((problem) => `  ${problem.message}`)
        .join("\n")}`,
    );
  }
}

/** checkGguf, throwing GgufCheckError on any error; resolves to the check (warnings included). */
export async function assertLoadableGguf(path: string, options: CheckGgufOptions = {}): Promise<GgufCheck> {
  const check = await checkGguf(path, options);
  if (!check.ok) throw new GgufCheckError(path, check.problems);
  return check;
}
