import type { Handler } from "hono";
import type { Keyring } from "../auth/index.js";
import { StatusPage, type StatusSnapshot } from "./page.js";

export type { StatusSnapshot } from "./page.js";

const REALM = 'Basic realm="edge-gateway status", charset="UTF-8"';
/** The page's own inline style, and nothing else: no script, no external resource, no framing. */
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/**
 * The key from `Authorization: Bearer <key>` or, so a browser can ask for it, from HTTP Basic
 * (any user name, the key as password; RFC 7617).
 */
function presentedKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = /^bearer +(\S+) *$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/**
 * `GET /`: the status page, server-rendered, reloading itself. With API keys configured it needs a
 * key with the `admin` scope (Bearer, or Basic so a browser prompts for it); without keys the
 * gateway serves loopback only and the page is open to the device's operator.
 */
export function statusPage(keyring: Keyring, snapshot: () => StatusSnapshot): Handler {
  return (c) => {
    if (keyring.size > 0) {
      const key = presentedKey(c.req.header("authorization"));
      const client = key === undefined ? undefined : keyring.authenticate(key);
      if (!client) {
        c.header("WWW-Authenticate", REALM);
        return c.text("A key with the admin scope is required (the key is the password).\n", 401);
      }
      if (!client.scopes.has("admin")) return c.text("This key lacks the 'admin' scope.\n", 403);
    }
    c.header("Cache-Control", "no-store");
    c.header("Content-Security-Policy", PAGE_CSP);
    return c.html(`<!doctype html>${(<StatusPage s={snapshot()} />).toString()}`);
  };
}
