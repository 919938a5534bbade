import { describe, expect, it } from "vitest";
import { TaskClass } from "../../host/core/codes.js";
import {
  estimateTokens,
  extractFeatures,
  MESSAGE_OVERHEAD_TOKENS,
  NON_TEXT_PART_TOKENS,
  REPLY_PRIMING_TOKENS,
} from "../../host/features/index.js";

const FRAME = REPLY_PRIMING_TOKENS + MESSAGE_OVERHEAD_TOKENS;

describe("estimateTokens", () => {
  it.each<[string, unknown, unknown, number]>([
    ["no messages", [], undefined, 0],
    ["one 12-character message", [{ role: "user", content: "hello world!" }], undefined, FRAME + 3],
    ["rounds characters up", [{ role: "user", content: "hello" }], undefined, FRAME + 2],
    [
      "sums text over messages before dividing",
      [
        { role: "system", content: "ab" },
        { role: "user", content: "cd" },
      ],
      undefined,
      REPLY_PRIMING_TOKENS + 2 * MESSAGE_OVERHEAD_TOKENS + 1,
    ],
    [
      "text parts and an image",
      [
        {
          role: "user",
          content: [
            { type: "text", text: "abcd" },
            { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
            { type: "text", text: "efgh" },
          ],
        },
      ],
      undefined,
      FRAME + 2 + NON_TEXT_PART_TOKENS,
    ],
    [
      "assistant tool calls and a name",
      [
        {
          role: "assistant",
          name: "bot",
          content: null,
          tool_calls: [{ function: { name: "f", arguments: "{}" } }],
        },
      ],
      undefined,
      FRAME + 2,
    ],
    // `[{"type":"function"}]` is 21 characters.
    ["tools as JSON", [{ role: "user", content: "" }], [{ type: "function" }], FRAME + 6],
  ])("%s", (_name, messages, tools, expected) => {
    expect(estimateTokens(messages, tools)).toBe(expected);
  });

  it("is about a quarter of the character count for long text", () => {
    const content = "x".repeat(40_000);
    expect(estimateTokens([{ role: "user", content }])).toBe(10_000 + FRAME);
  });

  it.each<[string, unknown, unknown]>([
    ["undefined", undefined, undefined],
    ["a string", "hello", "tools"],
    ["odd messages", [null, 7, "x", { content: 5 }, { content: [null, 3, { text: 9 }] }], null],
    [
      "cyclic tools",
      [],
      (() => {
        const a: Record<string, unknown> = {};
        a.self = a;
        return [a];
      })(),
    ],
    ["a BigInt in tools", [], [{ n: 1n }]],
  ])("never throws on %s", (_name, messages, tools) => {
    const tokens = estimateTokens(messages, tools);
    expect(Number.isFinite(tokens)).toBe(true);
    expect(tokens).toBeGreaterThanOrEqual(0);
  });
});

describe("extractFeatures", () => {
  it("combines tokens, limits, class, PII and streaming", () => {
    const body = {
      model: "auto",
      messages: [
        { role: "system", content: "You are helpful." },
        { role: "user", content: "my mail is a@b.io" },
        { role: "assistant", content: "call me at +1 555 123 4567" },
        { role: "user", content: "write a haiku about it" },
      ],
      max_tokens: 64,
      stream: true,
    };
    expect(extractFeatures(body)).toEqual({
      promptTokens: estimateTokens(body.messages),
      maxTokens: 64,
      taskClass: TaskClass.Creative,
      // The assistant's phone number is not the client's data; the user's e-mail is.
      pii: { found: true, kinds: ["email"] },
      stream: true,
    });
  });

  it("prefers max_completion_tokens and defaults to 0", () => {
    const messages = [{ role: "user", content: "hi" }];
    expect(extractFeatures({ messages, max_tokens: 10, max_completion_tokens: 20 }).maxTokens).toBe(20);
    expect(extractFeatures({ messages, max_tokens: 10 }).maxTokens).toBe(10);
    expect(extractFeatures({ messages }).maxTokens).toBe(0);
    expect(extractFeatures({ messages, max_tokens: -1 }).maxTokens).toBe(0);
    expect(extractFeatures({ messages, max_tokens: "5" }).maxTokens).toBe(0);
  });

  it("scans system and tool messages for PII, not only the last", () => {
    const found = extractFeatures({
      messages: [
        { role: "system", content: "Customer IBAN DE89 3704 0044 0532 0130 00" },
        { role: "tool", content: [{ type: "text", text: "client at 10.1.2.3" }] },
        { role: "user", content: "summarise" },
      ],
    });
    expect(found.pii.kinds).toEqual(["iban", "ipv4"]);
  });

  it("classifies the last user message", () => {
    const f = extractFeatures({
      messages: [
        { role: "user", content: "write a poem" },
        { role: "assistant", content: "Roses are red" },
        { role: "user", content: [{ type: "text", text: "now solve 3x = 9" }] },
      ],
    });
    expect(f.taskClass).toBe(TaskClass.Math);
  });

  it("never throws on odd bodies", () => {
    for (const body of [
      null,
      undefined,
      5,
      "x",
      [],
      { messages: "nope" },
      { messages: [{ role: 1, content: {} }] },
    ]) {
      expect(extractFeatures(body as never)).toEqual({
        promptTokens: expect.any(Number),
        maxTokens: 0,
        taskClass: TaskClass.Chat,
        pii: { found: false, kinds: [] },
        stream: false,
      });
    }
  });
});
