import type { MiddlewareHandler } from "hono";
import { sendError } from "../errors.js";
import { requestHeader } from "../http/node-request.js";
import { BEARER_TOKEN } from "./env-keys.js";
import { createAnonymousRecord, type KeyRecord, type Scope } from "./key-record.js";
import type { Keyring } from "./keyring.js";

export type AuthVariables = { client: KeyRecord };

export interface AuthOptions {
  keyring: Keyring;
  /** The scope every route behind this middleware needs. */
  scope?: Scope;
  /** The client set when the keyring is empty; the caller allows that only on loopback. */
  anonymous?: KeyRecord;
  /** Realm of the WWW-Authenticate challenge (RFC 6750 section 3). */
  realm?: string;
}

/** "Bearer" then the token (RFC 6750 section 2.1); the scheme is case-insensitive (RFC 9110 11.1). */
const AUTHORIZATION = /^bearer +(\S+) *$/i;

/**
 * API-key authentication: `Authorization: Bearer <key>` -> `c.get("client")`. Answers 401 with a
 * `WWW-Authenticate: Bearer` challenge (RFC 6750 section 3) when the key is missing or unknown and
 * 403 when the key lacks the scope, in OpenAI's error shape. The token is never logged or echoed.
 */
export function authMiddleware({
  keyring,
  scope = "chat",
  anonymous = createAnonymousRecord(),
  realm = "edge-gateway",
}: AuthOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  const challenge = `Bearer realm="${realm}"`;
  return async function auth(c, next) {
    let client: KeyRecord | undefined;
    if (keyring.size === 0) {
      // OpenAI SDKs always send some key; without a keyring it is ignored rather than refused.
      client = anonymous;
    } else {
      const header = requestHeader(c, "authorization");
      const token = header === undefined ? undefined : AUTHORIZATION.exec(header)?.[1];
      if (token === undefined) {
        // Absent or another scheme: no error attribute, as RFC 6750 section 3.1 asks.
        c.header("WWW-Authenticate", challenge);
        return sendError(c, "missing_api_key", {
          message: header === undefined ? undefined : "The Authorization header must be 'Bearer <key>'.",
        });
      }
      client = BEARER_TOKEN.test(token) ? keyring.authenticate(token) : undefined;
      if (client === undefined) {
        c.header("WWW-Authenticate", `${challenge}, error="invalid_token"`);
        return sendError(c, "invalid_api_key");
      }
    }
    if (!client.scopes.has(scope)) {
      c.header("WWW-Authenticate", `${challenge}, error="insufficient_scope", scope="${scope}"`);
      return sendError(c, "insufficient_scope", { message: `This API key lacks the '${scope}' scope.` });
    }
    c.set("client", client);
    await next();
  };
}
