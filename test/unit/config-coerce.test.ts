import { describe, expect, it } from "vitest";
import { z } from "zod";
import { coerceScalar, schemaAt } from "../../host/config/coerce.js";

const schema = z
  .object({
    a: z
      .object({ n: z.number().default(1), flag: z.boolean().optional(), name: z.string().default("x") })
      .prefault({}),
    map: z.record(z.string(), z.object({ limit: z.number() })),
  })
  .strict();

describe("coerceScalar with schemaAt", () => {
  it("turns numeric text into a number where the schema wants one", () => {
    expect(coerceScalar(schemaAt(schema, ["a", "n"]), " 42 ")).toBe(42);
    expect(coerceScalar(schemaAt(schema, ["map", "anyKey", "limit"]), "7.5")).toBe(7.5);
  });

  it("leaves text that is not a number for the schema to reject", () => {
    expect(coerceScalar(schemaAt(schema, ["a", "n"]), "abc")).toBe("abc");
    expect(coerceScalar(schemaAt(schema, ["a", "n"]), "")).toBe("");
  });

  it("reads true/false, 1/0, yes/no and on/off as booleans where the schema wants one", () => {
    const flag = schemaAt(schema, ["a", "flag"]);
    expect(["true", "1", "YES", "on"].map((raw) => coerceScalar(flag, raw))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(["false", "0", "no", "Off"].map((raw) => coerceScalar(flag, raw))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(coerceScalar(flag, "maybe")).toBe("maybe");
  });

  it("keeps strings where the schema wants a string and for unknown keys", () => {
    expect(coerceScalar(schemaAt(schema, ["a", "name"]), "123")).toBe("123");
    expect(schemaAt(schema, ["a", "nope"])).toBeUndefined();
    expect(schemaAt(schema, ["a", "toString"])).toBeUndefined();
    expect(coerceScalar(undefined, "123")).toBe("123");
  });
});
