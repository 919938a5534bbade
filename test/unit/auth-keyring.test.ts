import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type ApiKeyConfig,
  apiKeyConfigSchema,
  createKeyring,
  KeyringError,
  parseEnvKeys,
} from "../../host/auth/index.js";
import { clientHash } from "../../host/core/client-hash.js";

const sha = (key: string) => createHash("sha256").update(key).digest("hex");

function fileKey(id: string, key: string, extra: Partial<ApiKeyConfig> = {}): ApiKeyConfig {
  return apiKeyConfigSchema.parse({ id, sha256: sha(key), ...extra });
}

describe("parseEnvKeys", () => {
  it("reads keys, tiers, whitespace and empty entries", () => {
    const keys = parseEnvKeys(" alpha , beta:premium,, gamma : free ,");
    expect(keys.map(({ id, tier, entry }) => ({ id, tier, entry }))).toEqual([
      { id: "env-1", tier: "default", entry: 1 },
      { id: "env-2", tier: "premium", entry: 2 },
      { id: "env-3", tier: "free", entry: 4 },
    ]);
    expect(keys.map((k) => k.key)).toEqual(["alpha", "beta", "gamma"]);
  });

  it("accepts the characters of an RFC 6750 bearer token", () => {
    expect(parseEnvKeys("egw_Ab-9.x~y+z/w==:gold")).toMatchObject([
      { key: "egw_Ab-9.x~y+z/w==", tier: "gold" },
    ]);
  });

  it("reads an empty string as no keys", () => {
    expect(parseEnvKeys("")).toEqual([]);
    expect(parseEnvKeys(" , ,")).toEqual([]);
  });

  it.each([
    [":tier", /entry 1 has no key before ':'/],
    ["good,key:", /entry 2 has an empty tier after ':'/],
    ["sk one", /entry 1: the key has characters a bearer token cannot carry/],
    ["a:b:gold", /entry 1: the key has characters a bearer token cannot carry/],
    ["secret-key:gold tier", /entry 1 has a tier with spaces/],
  ])("rejects %j with a clear message", (value, message) => {
    expect(() => parseEnvKeys(value)).toThrow(KeyringError);
    expect(() => parseEnvKeys(value)).toThrow(message);
  });

  it("never quotes the key in an error", () => {
    expect(() => parseEnvKeys("topsecret value")).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("topsecret") }),
    );
  });
});

describe("apiKeyConfigSchema", () => {
  it("fills in the tier, scopes and the offline opt-in", () => {
    expect(apiKeyConfigSchema.parse({ id: "laptop", sha256: sha("k") })).toEqual({
      id: "laptop",
      sha256: sha("k"),
      tier: "default",
      scopes: ["chat", "mcp", "queue"],
      asyncWhenOffline: false,
    });
  });

  it.each([
    ["a short hash", { id: "a", sha256: "abc" }],
    ["a non-hex hash", { id: "a", sha256: "z".repeat(64) }],
    ["an unknown scope", { id: "a", sha256: sha("k"), scopes: ["root"] }],
    ["no scopes", { id: "a", sha256: sha("k"), scopes: [] }],
    ["an unknown field", { id: "a", sha256: sha("k"), key: "plaintext" }],
    ["a bad id", { id: "has space", sha256: sha("k") }],
  ])("rejects %s", (_name, entry) => {
    expect(apiKeyConfigSchema.safeParse(entry).success).toBe(false);
  });
});

describe("createKeyring", () => {
  it("authenticates env keys with tiers and default scopes", () => {
    const ring = createKeyring({ envKeys: "alpha,beta:premium" });
    expect(ring.size).toBe(2);
    const beta = ring.authenticate("beta");
    expect(beta).toMatchObject({ id: "env-2", tier: "premium" });
    expect([...(beta?.scopes ?? [])]).toEqual(["chat", "mcp", "queue"]);
    expect(ring.authenticate("gamma")).toBeUndefined();
    expect(ring.authenticate("")).toBeUndefined();
  });

  it("authenticates file keys by their SHA-256, with explicit scopes", () => {
    const ring = createKeyring({ keys: [fileKey("ops", "s3cret", { tier: "gold", scopes: ["admin"] })] });
    const ops = ring.authenticate("s3cret");
    expect(ops).toMatchObject({ id: "ops", tier: "gold" });
    expect(ops?.scopes.has("admin")).toBe(true);
    expect(ops?.scopes.has("chat")).toBe(false);
    expect(ring.authenticate(sha("s3cret"))).toBeUndefined();
  });

  it("accepts the hash in upper case", () => {
    const ring = createKeyring({ keys: [{ ...fileKey("a", "k"), sha256: sha("k").toUpperCase() }] });
    expect(ring.authenticate("k")?.id).toBe("a");
  });

  it("carries the core's client hash of the id", () => {
    const [lo, hi] = clientHash("env-1");
    expect(createKeyring({ envKeys: "alpha" }).authenticate("alpha")).toMatchObject({ lo, hi });
  });

  it("keeps no plaintext key", () => {
    const ring = createKeyring({ envKeys: "plaintext-key-123" });
    const seen = JSON.stringify(ring.records(), (_k, v) => (v instanceof Set ? [...v] : v));
    expect(seen).not.toContain("plaintext-key-123");
    expect(Object.values(ring).some((v) => typeof v === "string")).toBe(false);
  });

  it.each([1, 100])("finds every key among %i, whatever its position", (count) => {
    const keys = Array.from({ length: count }, (_, i) => fileKey(`k${i}`, `key-${i}`));
    const ring = createKeyring({ keys });
    for (const i of [0, Math.floor(count / 2), count - 1])
      expect(ring.authenticate(`key-${i}`)?.id).toBe(`k${i}`);
    expect(ring.authenticate("key-missing")).toBeUndefined();
  });

  it("compares the presented hash against every stored hash, not stopping at a match", async () => {
    const crypto = await import("node:crypto");
    const { vi } = await import("vitest");
    vi.resetModules();
    let calls = 0;
    vi.doMock("node:crypto", () => ({
      ...crypto,
      timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
        calls++;
        return crypto.timingSafeEqual(a, b);
      },
    }));
    try {
      const fresh = await import("../../host/auth/keyring.js");
      const ring = fresh.createKeyring({
        keys: Array.from({ length: 50 }, (_, i) => fileKey(`k${i}`, `key-${i}`)),
      });
      expect(ring.authenticate("key-0")?.id).toBe("k0");
      expect(calls).toBe(50);
      calls = 0;
      expect(ring.authenticate("nope")).toBeUndefined();
      expect(calls).toBe(50);
    } finally {
      vi.doUnmock("node:crypto");
      vi.resetModules();
    }
  });

  it("is empty without keys", () => {
    const ring = createKeyring({});
    expect(ring.size).toBe(0);
    expect(ring.authenticate("anything")).toBeUndefined();
    expect(createKeyring().records()).toEqual([]);
  });

  it.each<[string, Parameters<typeof createKeyring>[0], RegExp]>([
    [
      "duplicate file ids",
      { keys: [fileKey("a", "k1"), fileKey("a", "k2")] },
      /auth.keys\[1\] has id 'a', already used by auth.keys\[0\]/,
    ],
    [
      "a file id clashing with an env id",
      { envKeys: "k1", keys: [fileKey("env-1", "k2")] },
      /already used by GATEWAY_API_KEYS entry 1/,
    ],
    [
      "the same key twice in env",
      { envKeys: "k1,k2,k1" },
      /GATEWAY_API_KEYS entry 3 is the same key as GATEWAY_API_KEYS entry 1/,
    ],
    [
      "the same key in env and file",
      { envKeys: "k1", keys: [fileKey("a", "k1")] },
      /auth.keys\[0\] is the same key as GATEWAY_API_KEYS entry 1/,
    ],
    [
      "a bad file entry",
      { keys: [{ id: "a", sha256: "xyz" } as ApiKeyConfig] },
      /auth.keys\[0\].sha256: expected the key's SHA-256/,
    ],
  ])("refuses %s", (_name, options, message) => {
    expect(() => createKeyring(options)).toThrow(KeyringError);
    expect(() => createKeyring(options)).toThrow(message);
  });
});
