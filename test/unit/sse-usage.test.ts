import { describe, expect, it } from "vitest";
import { SseUsageScanner, usageFromJson } from "../../host/openai/usage.js";

const STREAM =
  'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n' +
  'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}\n\ndata: [DONE]\n\n';

describe("usage accounting", () => {
  it.each([1, 7, 64, STREAM.length])("finds the usage event in a stream cut into %i-byte chunks", (size) => {
    const scanner = new SseUsageScanner();
    const bytes = Buffer.from(STREAM);
    for (let i = 0; i < bytes.length; i += size) scanner.push(bytes.subarray(i, i + size));
    expect(scanner.usage).toEqual({ promptTokens: 3, completionTokens: 4 });
  });

  it("finds nothing in a stream without usage, and ignores foreign events", () => {
    const scanner = new SseUsageScanner();
    scanner.push(
      Buffer.from('data: {"choices":[]}\n\nevent: ping\ndata: "usage" is a word\n\ndata: [DONE]\n\n'),
    );
    expect(scanner.usage).toBeUndefined();
  });

  it("reads usage from a JSON answer", () => {
    expect(usageFromJson(Buffer.from('{"usage":{"prompt_tokens":5,"completion_tokens":2}}'))).toEqual({
      promptTokens: 5,
      completionTokens: 2,
    });
    expect(usageFromJson(Buffer.from("not json"))).toBeUndefined();
  });
});
