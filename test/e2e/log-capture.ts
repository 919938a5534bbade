import { Writable } from "node:stream";

export type LogLine = Record<string, unknown> & { msg?: string };

/** A pino destination that keeps parsed lines and lets a test wait for one, without sleeping. */
export function captureLog(): { destination: Writable; lines: LogLine[] } {
  const lines: LogLine[] = [];
  let partial = "";
  const destination = new Writable({
    write(chunk, _encoding, done) {
      const parts = (partial + String(chunk)).split("\n");
      partial = parts.pop() ?? "";
      for (const part of parts) if (part !== "") lines.push(JSON.parse(part) as LogLine);
      done();
    },
  });
  return { destination, lines };
}
