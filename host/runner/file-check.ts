import { checkGguf } from "../models/gguf.js";
import type { ModelFileCheck } from "./options.js";

/**
 * The default check before a load: host/models' GGUF header check (what llama.cpp would refuse or
 * abort on), the size, and the SHA-256 when the manifest gives them. Only errors refuse the file;
 * warnings are llama.cpp's to judge.
 */
export const checkModelFileWithGguf: ModelFileCheck = async (path, { expectedSha256, expectedSizeBytes }) => {
  const check = await checkGguf(path, {
    ...(expectedSha256 === undefined ? {} : { expectedSha256 }),
    ...(expectedSizeBytes === undefined ? {} : { expectedSizeBytes }),
  });
  return check.problems.filter((problem) => problem.severity === "error").map((problem) => problem.message);
};
