import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../host/logger.js";

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const lines = () =>
    chunks
      .join("")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

describe("createLogger", () => {
  it("writes JSON lines at or above the configured level only", () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: "warn", destination: stream });
    logger.info("hidden");
    logger.warn({ port: 1 }, "shown");
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatchObject({ msg: "shown", port: 1, level: 40, name: "edge-gateway" });
  });

  it("redacts authorization headers and API keys", () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: "info", destination: stream });
    logger.info(
      {
        req: { headers: { authorization: "Bearer sk-secret", "x-api-key": "sk-2", accept: "*/*" } },
        provider: { apiKey: "sk-3", baseUrl: "https://api.example" },
        apiKey: "sk-4",
      },
      "request",
    );
    const text = JSON.stringify(lines()[0]);
    expect(text).not.toContain("sk-");
    expect(lines()[0]).toMatchObject({
      req: { headers: { authorization: "[redacted]", "x-api-key": "[redacted]", accept: "*/*" } },
      provider: { apiKey: "[redacted]", baseUrl: "https://api.example" },
    });
  });
});
