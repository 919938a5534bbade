import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOGUE, errorResponse } from "../../host/errors.js";

describe("the error catalogue", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

  it("is documented row for row in the README, with the same status and type", () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(readme, code).toContain(
        `| \`${code}\` | ${entry.status} | ${entry.type} | ${entry.message} | ${entry.fix} |`,
      );
    }
    const documented = [...readme.matchAll(/^\| `([a-z_]+)` \| \d{3} \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
  });

  it("builds OpenAI-shaped bodies", () => {
    expect(errorResponse("invalid_request", "bad", "messages")).toEqual({
      status: 400,
      body: {
        error: { message: "bad", type: "invalid_request_error", code: "invalid_request", param: "messages" },
      },
    });
  });
});
