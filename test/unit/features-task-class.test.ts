import { describe, expect, it } from "vitest";
import { TaskClass } from "../../host/core/codes.js";
import { CLASSIFY_SCAN_LIMIT_CHARS, classifyTask } from "../../host/features/index.js";

describe("classifyTask", () => {
  it.each<[string, TaskClass]>([
    ["```ts\nconst a: number = 1;\n```\nwhat does this do?", TaskClass.Code],
    ["write a python function that reverses a list", TaskClass.Code],
    ['Traceback (most recent call last):\n  File "app.py", line 3', TaskClass.Code],
    ["TypeError: x is not a function\n    at main (/app/index.js:10:5)", TaskClass.Code],
    ["SELECT name FROM users WHERE id = 1 is slow", TaskClass.Code],
    ["I have a bug: my regex matches too much", TaskClass.Code],
    ["why does this fail to compile?", TaskClass.Code],
    ["explain why this function throws", TaskClass.Code],
    ["solve 2x + 3 = 7", TaskClass.Math],
    ["What is the integral of x^2 from 0 to 1?", TaskClass.Math],
    ["calculate 17 * 23", TaskClass.Math],
    ["How many apples are left if I eat 3 of 10?", TaskClass.Math],
    ["find the derivative of sin(x)", TaskClass.Math],
    ["∫ x dx", TaskClass.Math],
    ["Why is the sky blue?", TaskClass.Reasoning],
    ["Explain step by step how vaccines work", TaskClass.Reasoning],
    ["Compare renting and buying a house", TaskClass.Reasoning],
    ["pros and cons of remote work", TaskClass.Reasoning],
    ["analyze the causes of the French revolution", TaskClass.Reasoning],
    ["prove that there are infinitely many primes", TaskClass.Reasoning],
    ["write a haiku about autumn", TaskClass.Creative],
    ["Write me a short story about a dragon", TaskClass.Creative],
    ["lyrics for a song about the sea", TaskClass.Creative],
    ["imagine a city on Mars and describe it", TaskClass.Creative],
    ["write a poem explaining why cats purr", TaskClass.Creative],
    ["hello there", TaskClass.Chat],
    ["tell me about Paris", TaskClass.Chat],
    ["thanks!", TaskClass.Chat],
    ["what happened on 2024-01-15?", TaskClass.Chat],
    ["", TaskClass.Chat],
  ])("%j -> %i", (text, expected) => {
    expect(classifyTask(text)).toBe(expected);
  });

  it("reads only the first 8 KB", () => {
    const filler = "lorem ipsum ".repeat(Math.ceil(CLASSIFY_SCAN_LIMIT_CHARS / 12));
    expect(classifyTask(`${filler} write a haiku`)).toBe(TaskClass.Chat);
    expect(classifyTask(`write a haiku ${filler}`)).toBe(TaskClass.Creative);
  });

  it("treats a non-string as chat", () => {
    expect(classifyTask(42 as unknown as string)).toBe(TaskClass.Chat);
  });

  it("classifies 1 MB of adversarial text quickly", () => {
    for (const unit of ["\n", " at x (", "1 + ", "```", "a"]) {
      const text = unit.repeat(Math.ceil((1024 * 1024) / unit.length));
      const started = performance.now();
      classifyTask(text);
      expect(performance.now() - started).toBeLessThan(200);
    }
  });
});
