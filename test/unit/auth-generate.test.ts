import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  API_KEY_PREFIX,
  apiKeyConfigSchema,
  createKeyring,
  formatKeyConfigLine,
  generateApiKey,
  isLoopbackHost,
} from "../../host/auth/index.js";

describe("generateApiKey", () => {
  it("makes a prefixed 256-bit base64url key with its SHA-256", () => {
    const { key, sha256 } = generateApiKey();
    expect(key).toMatch(/^egw_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(API_KEY_PREFIX)).toBe(true);
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(generateApiKey().key).not.toBe(key);
  });

  it("authenticates through the config lines it prints", () => {
    const { key, sha256 } = generateApiKey();
    const snippet = formatKeyConfigLine({ id: "laptop", sha256, tier: "premium", scopes: ["chat", "admin"] });
    const config = parse(`auth:\n  keys:\n${snippet}\n`);
    const keys = config.auth.keys.map((entry: unknown) => apiKeyConfigSchema.parse(entry));
    expect(keys).toEqual([
      { id: "laptop", sha256, tier: "premium", scopes: ["chat", "admin"], asyncWhenOffline: false },
    ]);
    const client = createKeyring({ keys }).authenticate(key);
    expect(client?.id).toBe("laptop");
    expect(client?.scopes.has("admin")).toBe(true);
  });
});

describe("formatKeyConfigLine", () => {
  it("quotes values YAML would otherwise read as numbers", () => {
    const sha256 = "1".repeat(64);
    const snippet = formatKeyConfigLine({ id: "123", sha256 });
    expect(parse(`keys:\n${snippet}`)).toEqual({
      keys: [{ id: "123", sha256, tier: "default", scopes: ["chat", "mcp", "queue"] }],
    });
  });

  it("refuses an entry the config would reject", () => {
    expect(() => formatKeyConfigLine({ id: "bad id", sha256: "1".repeat(64) })).toThrow();
    expect(() => formatKeyConfigLine({ id: "a", sha256: "short" })).toThrow();
  });
});

describe("isLoopbackHost", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["127.0.0.1:8080", true],
    ["::1", true],
    ["[::1]", true],
    ["[::1]:8080", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["localhost", true],
    ["LOCALHOST", true],
    ["localhost:3000", true],
    [" 127.0.0.1 ", true],
    ["0.0.0.0", false],
    ["::", false],
    ["192.168.1.10", false],
    ["10.0.0.1", false],
    ["128.0.0.1", false],
    ["::2", false],
    ["fe80::1", false],
    ["example.com", false],
    ["localhost.example.com", false],
    ["127.0.0.1.nip.io", false],
    ["evil@127.0.0.1", false],
    ["127.0.0.1/evil", false],
    ["", false],
  ])("%j -> %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
