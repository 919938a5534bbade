import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";

export interface HashProgress {
  doneBytes: number;
  totalBytes: number;
}

export interface HashOptions {
  /** Called after every chunk read (4 MiB); a CLI throttles its own drawing. */
  onProgress?: (progress: HashProgress) => void;
  signal?: AbortSignal;
}

const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Streams the file through SHA-256 in 4 MiB chunks: a multi-gigabyte model is hashed in constant
 * memory, which matters on a 2 GB Pi. Returns the lowercase hex digest.
 */
export async function sha256File(path: string, { onProgress, signal }: HashOptions = {}): Promise<string> {
  const { size: totalBytes } = await stat(path);
  const hash = createHash("sha256");
  let doneBytes = 0;
  onProgress?.({ doneBytes, totalBytes });
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES, signal });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    doneBytes += chunk.length;
    onProgress?.({ doneBytes, totalBytes });
  }
  return hash.digest("hex");
}
