import { createHash } from "node:crypto";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import {
  type AuthVariables,
  authMiddleware,
  createAnonymousRecord,
  createKeyring,
  type Keyring,
  type Scope,
} from "../../host/auth/index.js";

const sha = (key: string) => createHash("sha256").update(key).digest("hex");

const KEYRING = createKeyring({
  envKeys: "chat-key:premium",
  keys: [{ id: "ops", sha256: sha("admin-key"), tier: "default", scopes: ["admin"] }],
});

function app(keyring: Keyring, scope: Scope = "chat", anonymous = createAnonymousRecord("free")) {
  const hono = new Hono<{ Variables: AuthVariables }>();
  hono.use("*", authMiddleware({ keyring, scope, anonymous }));
  hono.get("/whoami", (c) => {
    const client = c.get("client");
    return c.json({ id: client.id, tier: client.tier });
  });
  return hono;
}

function get(hono: Hono<{ Variables: AuthVariables }>, authorization?: string) {
  return hono.request("/whoami", {
    headers: authorization === undefined ? {} : { Authorization: authorization },
  });
}

describe("authMiddleware", () => {
  it("lets a known key with the scope through and sets the client", async () => {
    const res = await get(app(KEYRING), "Bearer chat-key");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: "env-1", tier: "premium" });
  });

  it("accepts the scheme in any case and extra spaces", async () => {
    expect((await get(app(KEYRING), "bearer   chat-key")).status).toBe(200);
    expect((await get(app(KEYRING), "BEARER chat-key")).status).toBe(200);
  });

  it("answers 401 missing_api_key with a Bearer challenge when there is no header", async () => {
    const res = await get(app(KEYRING));
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="edge-gateway"');
    expect(await res.json()).toEqual({
      error: {
        message: expect.stringContaining("Bearer"),
        type: "invalid_request_error",
        code: "missing_api_key",
        param: null,
      },
    });
  });

  it.each(["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "chat-key", "Bearer two tokens"])(
    "answers 401 missing_api_key for the malformed header %j",
    async (header) => {
      const res = await get(app(KEYRING), header);
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
      expect((await res.json()).error.code).toBe("missing_api_key");
    },
  );

  it.each(["Bearer wrong-key", "Bearer chat-key!", `Bearer ${sha("chat-key")}`])(
    "answers 401 invalid_api_key for %j and does not echo it",
    async (header) => {
      const res = await get(app(KEYRING), header);
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="edge-gateway", error="invalid_token"');
      const text = await res.text();
      expect(JSON.parse(text).error).toMatchObject({
        type: "invalid_request_error",
        code: "invalid_api_key",
      });
      expect(text).not.toContain(header.slice("Bearer ".length));
    },
  );

  it("answers 403 insufficient_scope for a key without the scope", async () => {
    const res = await get(app(KEYRING, "chat"), "Bearer admin-key");
    expect(res.status).toBe(403);
    expect(res.headers.get("WWW-Authenticate")).toBe(
      'Bearer realm="edge-gateway", error="insufficient_scope", scope="chat"',
    );
    expect((await res.json()).error).toMatchObject({
      type: "invalid_request_error",
      code: "insufficient_scope",
    });
  });

  it("checks the scope the middleware was built with", async () => {
    expect((await get(app(KEYRING, "admin"), "Bearer admin-key")).status).toBe(200);
    expect((await get(app(KEYRING, "admin"), "Bearer chat-key")).status).toBe(403);
  });

  describe("with an empty keyring", () => {
    const empty = createKeyring({});

    it("sets the anonymous client whether or not a key is sent", async () => {
      for (const header of [undefined, "Bearer whatever", "Basic abc"]) {
        const res = await get(app(empty), header);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ id: "anonymous", tier: "free" });
      }
    });

    it("still checks the anonymous client's scopes", async () => {
      expect((await get(app(empty, "admin"))).status).toBe(403);
      expect((await get(app(empty, "admin", createAnonymousRecord("default", ["admin"])))).status).toBe(200);
    });

    it("defaults to an anonymous client without admin", async () => {
      const hono = new Hono<{ Variables: AuthVariables }>();
      hono.use("*", authMiddleware({ keyring: empty }));
      hono.get("/whoami", (c) =>
        c.json({ id: c.get("client").id, admin: c.get("client").scopes.has("admin") }),
      );
      expect(await (await hono.request("/whoami")).json()).toEqual({ id: "anonymous", admin: false });
    });
  });

  it("ignores the anonymous client once keys exist", async () => {
    const res = await get(app(KEYRING));
    expect(res.status).toBe(401);
  });
});
