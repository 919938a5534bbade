import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { detectPii, luhnValid, PII_SCAN_LIMIT_CHARS } from "../../host/features/index.js";

/** Appends the Luhn check digit to `body`. */
function withCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(`${body}${d}`)) return `${body}${d}`;
  throw new Error("unreachable: one check digit always fits");
}

const cardNumber = fc
  .tuple(
    fc.integer({ min: 1, max: 9 }),
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 11, maxLength: 17 }),
  )
  .map(([first, rest]) => withCheckDigit(`${first}${rest.join("")}`));

/** Printed as one run, or in fours separated by spaces or dashes. */
const printedCard = fc
  .tuple(cardNumber, fc.constantFrom("", " ", "-"))
  .map(([digits, sep]) => (sep === "" ? digits : (digits.match(/.{1,4}/g) ?? []).join(sep)))
  // A last group of one or two digits reads as a separate small number, by design.
  .filter((printed) => !/[ -]\d{1,2}$/.test(printed));

describe("detectPii properties", () => {
  it("never throws and answers consistently on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
        const result = detectPii(text);
        return result.found === result.kinds.length > 0;
      }),
      { numRuns: 500 },
    );
  });

  it("never throws on strings built from the characters the patterns care about", () => {
    const alphabet = fc.constantFrom(..."0123456789 .-:+()@abfDEGB_\n".split(""));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 300 }), (text) => {
        expect(() => detectPii(text)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it("finds a valid Luhn number embedded in text", () => {
    const words = fc.string({
      unit: fc.constantFrom(..."abcdefghij klmnopqrst,.!?".split("")),
      maxLength: 60,
    });
    fc.assert(
      fc.property(words, printedCard, words, (before, card, after) => {
        expect(detectPii(`${before} ${card} ${after}`).kinds).toContain("card");
      }),
      { numRuns: 500 },
    );
  });
});

describe("detectPii cost", () => {
  // Quadratic backtracking on 64 KB would take seconds; a linear scan takes milliseconds. The bound
  // is loose because the test machines are shared and noisy.
  const LIMIT_MS = 500;
  const SIZE = 1024 * 1024;
  const units = [
    "1 ",
    "1-",
    "1.",
    "a@",
    "@a.",
    "a@b.",
    ":",
    "::",
    "f:",
    "1:",
    "+1 ",
    "(1",
    " (555) ",
    "DE89 ",
    "12 34 ",
  ];

  it.each(units)("a 1 MB string of %j finishes quickly", (unit) => {
    const text = unit.repeat(Math.ceil(SIZE / unit.length));
    const started = performance.now();
    detectPii(text);
    expect(performance.now() - started).toBeLessThan(LIMIT_MS);
  });

  it("costs about the same for 1 MB as for the 64 KB it scans", () => {
    const unit = "1 2 ";
    const small = unit.repeat(PII_SCAN_LIMIT_CHARS / unit.length);
    const large = unit.repeat(SIZE / unit.length);
    detectPii(small);
    const t0 = performance.now();
    detectPii(small);
    const t1 = performance.now();
    detectPii(large);
    const t2 = performance.now();
    expect(t2 - t1).toBeLessThan(Math.max(5 * (t1 - t0), 50));
  });
});
