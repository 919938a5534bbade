import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as codes from "../../host/core/codes.js";

// Which host table each constant prefix in assembly/codes.ts belongs to.
const TABLES: [RegExp, Record<string, number>][] = [
  [/^(ALLOW|DENY_\w+)$/, codes.AllowResult],
  [/^(SETTLED|UNKNOWN_CLIENT)$/, codes.SettleResult],
  [/^KIND_/, codes.TargetKind],
  [/^(CLOSED|OPEN|HALF_OPEN)$/, codes.Circuit],
  [/^TICKET_/, codes.Ticket],
  [/^OUTCOME_/, codes.Outcome],
  [/^FLAG_/, codes.RouteFlag],
  [/^DECIDE_/, codes.Decision],
  [/^REASON_/, codes.Reason],
  [/^CLASS_/, codes.RetryClass],
  [/^ERR_/, codes.ConfigError],
];

const pascal = (snake: string) =>
  snake
    .replace(/^(KIND|TICKET|OUTCOME|FLAG|DECIDE|REASON|CLASS|ERR)_/, "")
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());

describe("host code tables", () => {
  const source = readFileSync(new URL("../../assembly/codes.ts", import.meta.url), "utf8");
  const constants = [...source.matchAll(/export const (\w+): i32 = (-?\d+);/g)].map(
    (m) => [m[1] as string, Number(m[2])] as const,
  );

  it("name every code the core defines, with the same value", () => {
    expect(constants.length).toBeGreaterThan(40);
    for (const [name, value] of constants) {
      if (name === "OK") continue;
      const table = TABLES.find(([re]) => re.test(name))?.[1];
      expect(table, name).toBeDefined();
      expect(table?.[pascal(name)], name).toBe(value);
    }
  });

  it("define nothing the core lacks, except the host-only CoreFault reason", () => {
    for (const [re, table] of TABLES) {
      const own = new Map(constants.filter(([n]) => re.test(n)).map(([n, v]) => [pascal(n), v]));
      for (const [name, value] of Object.entries(table)) {
        if (name === "CoreFault") continue;
        expect(own.get(name), name).toBe(value);
      }
    }
  });

  it("give metrics snake_case names", () => {
    expect(codes.codeName(codes.AllowResult, codes.AllowResult.DenyRequests)).toBe("deny_requests");
    expect(codes.codeName(codes.Decision, 9)).toBe("9");
  });
});
