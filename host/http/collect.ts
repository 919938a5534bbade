import type { Readable } from "node:stream";

/**
 * A stream's bytes in one Buffer, collected with 'data' and 'end' listeners: an async iterator over
 * the stream costs several promises and closures per chunk, measured here as the largest single
 * allocation of a proxied request. Past `limitBytes` it stops listening and resolves "too_large" at
 * once, leaving the rest unread (the caller decides whether to destroy the stream). Rejects with the
 * stream's error, or when it closes before its end.
 */
export function collectBytes(stream: Readable, limitBytes: number): Promise<Buffer | "too_large"> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const stop = () => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.off("close", onClose);
    };
    const onData = (part: Buffer) => {
      size += part.byteLength;
      if (size > limitBytes) {
        stop();
        stream.pause();
        resolve("too_large");
        return;
      }
      parts.push(part);
    };
    const onEnd = () => {
      stop();
      resolve(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size));
    };
    const onError = (err: Error) => {
      stop();
      reject(err);
    };
    const onClose = () => {
      if (stream.readableEnded) return;
      stop();
      reject(new Error("the stream closed before its end"));
    };
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.on("close", onClose);
  });
}
