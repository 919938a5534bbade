// The table of malformed and hostile requests driven by hostile-input.test.ts. Each row states the
// answer the gateway documents for it (host/errors.ts, host/openai/, host/auth/); rows marked
// "Decision" are where the documents are silent and the comment says what was chosen and why.

import type { OutgoingHttpHeaders } from "node:http";
import type { ErrorCode } from "../../host/errors.js";
import { KEY } from "./harness.js";
import type { RawResponse } from "./raw-http.js";

/** The requests' body limit on the small gateway the 413 rows go to. */
export const SMALL_BODY_LIMIT_BYTES = 4096;

export interface HostileCase {
  name: string;
  method?: string;
  /** Default /v1/chat/completions. */
  path?: string;
  /** Replaces the default JSON content type and bearer KEY; a name mapped to undefined is not sent. */
  headers?: Record<string, string | undefined>;
  body?: string | Uint8Array;
  chunked?: boolean;
  /** Send to the gateway whose body limit is SMALL_BODY_LIMIT_BYTES. */
  small?: boolean;
  status: number;
  /** For an error answer: the catalogue code. */
  code?: ErrorCode;
  /** OpenAI's `param`: checked when given (null means "must be null"). */
  param?: string | null;
  /** Response headers that must match. */
  expectHeaders?: Record<string, string | RegExp>;
  /** Further checks on the answer; `upstreamBody` is what the serving fake received, if any. */
  check?: (res: RawResponse, upstreamBody: Record<string, unknown> | undefined) => void;
}

export const json = (value: unknown) => JSON.stringify(value);
const chatBody = (extra: Record<string, unknown> = {}, content: unknown = "hello there") => ({
  model: "auto",
  messages: [{ role: "user", content }],
  ...extra,
});
const valid = json(chatBody());
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));

/** A valid chat body of exactly `sizeBytes` bytes (ASCII padding in the content). */
export function chatOfSize(sizeBytes: number): string {
  const empty = json(chatBody({}, ""));
  return json(chatBody({}, "a".repeat(sizeBytes - empty.length)));
}

const DEPTH = 10_000;
const nestedArrays = `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`;
/** A valid chat request carrying a 10,000-deep array in an extra field. */
export const deepExtra = valid.replace(/}$/, `,"metadata":${nestedArrays}}`);
const nestedObjects = `${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}`;
// Family emoji (ZWJ sequences), flags, combining marks, right-to-left override, zero-width space,
// a BOM and astral CJK: all valid text, about 330 KB of UTF-8.
const UNICODE = "👩‍👩‍👧‍👦🏳️‍🌈🇺🇳 e\u0301\u0302 \u202Eevil\u202C \u200B\uFEFF 𠜎𠜱𠝹 Ωß ".repeat(5_000);

const noProtoPollution = () => {
  const probe = {} as Record<string, unknown>;
  if (probe.polluted !== undefined || probe.stream !== undefined || probe.role !== undefined) {
    throw new Error("Object.prototype was polluted by a request body");
  }
};

const methodNotAllowed = (method: string): HostileCase => ({
  name: `${method} on /v1/chat/completions -> 405 with Allow: POST (RFC 9110 15.5.6)`,
  method,
  status: 405,
  code: "method_not_allowed",
  expectHeaders: { allow: "POST" },
});
const notFound = (name: string, path: string): HostileCase => ({
  name,
  method: "GET",
  path,
  status: 404,
  code: "not_found",
});
const schema = (name: string, body: Record<string, unknown>, param: string): HostileCase => ({
  name: `${name} -> 400 naming '${param}'`,
  body: json(body),
  status: 400,
  code: "invalid_request",
  param,
});
const badJson = (name: string, body: string | Uint8Array): HostileCase => ({
  name,
  body,
  status: 400,
  code: "invalid_json",
});
const unauthorized = (name: string, authorization: string | undefined, code: ErrorCode): HostileCase => ({
  name,
  headers: { authorization },
  body: valid,
  status: 401,
  code,
  expectHeaders: { "www-authenticate": /^Bearer realm=/ },
});

const { messages: _m, ...noMessages } = chatBody();

export const HOSTILE_CASES: HostileCase[] = [
  // Malformed JSON.
  badJson("truncated JSON -> 400 invalid_json", valid.slice(0, -7)),
  badJson("trailing garbage after the object -> 400 invalid_json", `${valid} trailing`),
  badJson("NaN as a number -> 400 invalid_json", valid.replace(/}$/, ',"temperature":NaN}')),
  badJson("single-quoted JSON -> 400 invalid_json", valid.replaceAll('"', "'")),
  badJson("an empty body with a JSON content type -> 400 invalid_json", ""),
  badJson(
    "a raw NUL byte inside a string (unescaped control) -> 400 invalid_json",
    valid.replace("hello", "hel\u0000lo"),
  ),
  badJson(
    "an invalid UTF-8 byte between tokens -> 400 invalid_json",
    bytes('{"model":"auto",', [0xff], valid.slice(16)),
  ),
  // Decision: RFC 8259 8.1 requires UTF-8. Decoding with U+FFFD would forward a prompt the client
  // never wrote; the client is better served by a 400 that names the encoding problem.
  badJson(
    "invalid UTF-8 inside a string (0xC3 0x28, overlong 0xC0 0xAF) -> 400 invalid_json",
    bytes(
      valid.slice(0, valid.indexOf("hello")),
      [0xc3, 0x28, 0xc0, 0xaf],
      valid.slice(valid.indexOf("hello")),
    ),
  ),
  {
    name: "a bare string -> 400 invalid_request",
    body: '"hello"',
    status: 400,
    code: "invalid_request",
    param: "body",
  },
  {
    name: "an array -> 400 invalid_request",
    body: `[${valid}]`,
    status: 400,
    code: "invalid_request",
    param: "body",
  },
  { name: "null -> 400 invalid_request", body: "null", status: 400, code: "invalid_request", param: "body" },
  {
    name: "a number -> 400 invalid_request",
    body: "42",
    status: 400,
    code: "invalid_request",
    param: "body",
  },
  {
    name: "10,000 nested arrays as the body -> 400 invalid_request",
    body: nestedArrays,
    status: 400,
    code: "invalid_request",
  },
  {
    name: "10,000 nested objects as the body -> 400 invalid_request",
    body: nestedObjects,
    status: 400,
    code: "invalid_request",
  },
  // Decision: a value too deep to re-serialise for the upstream is the client's error (400), never
  // an upstream failure: it must not be tried on every target nor count against their health.
  {
    name: "a valid request with a 10,000-deep extra field -> 400 invalid_request",
    body: deepExtra,
    status: 400,
    code: "invalid_request",
  },

  // Size and media type.
  {
    name: "a body one byte over the limit with Content-Length -> 413",
    small: true,
    body: chatOfSize(SMALL_BODY_LIMIT_BYTES + 1),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "a chunked body over the limit -> 413",
    small: true,
    chunked: true,
    body: chatOfSize(SMALL_BODY_LIMIT_BYTES * 4),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "a body exactly at the limit -> 200",
    small: true,
    body: chatOfSize(SMALL_BODY_LIMIT_BYTES),
    status: 200,
  },
  {
    name: "text/plain -> 415",
    headers: { "content-type": "text/plain" },
    body: valid,
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "form-encoded -> 415",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `payload=${encodeURIComponent(valid)}`,
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "no Content-Type -> 415",
    headers: { "content-type": undefined },
    body: valid,
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "media type in capitals with a charset (case-insensitive, RFC 9110 8.3.1) -> 200",
    headers: { "content-type": "Application/JSON; charset=UTF-8" },
    body: valid,
    status: 200,
  },

  // Method and path.
  methodNotAllowed("GET"),
  methodNotAllowed("PUT"),
  methodNotAllowed("DELETE"),
  methodNotAllowed("PATCH"),
  notFound("an unknown /v1 path -> 404", "/v1/nope"),
  notFound("an unknown API version -> 404", "/v2/chat/completions"),
  notFound("a path below an endpoint -> 404", "/v1/chat/completions/extra"),
  notFound("/v1/../etc/passwd sent verbatim -> 404", "/v1/../etc/passwd"),
  notFound("percent-encoded dot segments -> 404", "/v1/%2e%2e/%2e%2e/etc/passwd"),
  notFound("encoded slashes in dot segments -> 404", "/v1/..%2f..%2fetc%2fpasswd"),
  // A request line the HTTP adapter cannot turn into a URL never reaches the routes: 400 in the
  // catalogue's shape (not the adapter's bodyless 400), naming the URL.
  {
    name: "backslash dot segments -> 400 naming 'url'",
    method: "GET",
    path: "/v1\\..\\..\\etc\\passwd",
    status: 400,
    code: "invalid_request",
    param: "url",
  },
  notFound("an 8 KB path -> 404", `/v1/${"a".repeat(8_000)}`),

  // Schema violations, each naming the field.
  schema("messages missing", noMessages, "messages"),
  schema("messages empty", chatBody({ messages: [] }), "messages"),
  schema("messages not an array", chatBody({ messages: "hello" }), "messages"),
  schema("a message that is not an object", chatBody({ messages: ["hello"] }), "messages.0"),
  schema(
    "a message with role 'wizard'",
    chatBody({ messages: [{ role: "wizard", content: "hi" }] }),
    "messages.0.role",
  ),
  schema("content a number", chatBody({}, 42), "messages.0.content"),
  schema("temperature 5", chatBody({ temperature: 5 }), "temperature"),
  schema("temperature -0.5", chatBody({ temperature: -0.5 }), "temperature"),
  schema("temperature as a string", chatBody({ temperature: "0.5" }), "temperature"),
  schema("max_tokens 0", chatBody({ max_tokens: 0 }), "max_tokens"),
  schema("max_tokens negative", chatBody({ max_tokens: -5 }), "max_tokens"),
  schema("max_tokens a float", chatBody({ max_tokens: 1.5 }), "max_tokens"),
  schema("max_tokens 1e308", chatBody({ max_tokens: 1e308 }), "max_tokens"),
  schema("n 0", chatBody({ n: 0 }), "n"),
  schema("stop with 5 entries", chatBody({ stop: ["a", "b", "c", "d", "e"] }), "stop"),
  schema("stream 'yes'", chatBody({ stream: "yes" }), "stream"),
  schema("model an object", chatBody({ model: { name: "auto" } }), "model"),
  schema("model 300 characters long", chatBody({ model: "m".repeat(300) }), "model"),
  {
    name: "a duplicate 'messages' key whose last value is invalid -> 400 naming 'messages'",
    body: valid.replace(/}$/, ',"messages":"later"}'),
    status: 400,
    code: "invalid_request",
    param: "messages",
  },

  // Authentication.
  unauthorized("no Authorization header -> 401 missing_api_key", undefined, "missing_api_key"),
  unauthorized(
    "the Basic scheme -> 401 missing_api_key",
    `Basic ${Buffer.from(`user:${KEY}`).toString("base64")}`,
    "missing_api_key",
  ),
  unauthorized("an empty bearer token -> 401 missing_api_key", "Bearer ", "missing_api_key"),
  unauthorized("an unknown key -> 401 invalid_api_key", "Bearer sk-unknown-key-0000", "invalid_api_key"),
  {
    name: "a lower-case 'bearer' scheme (RFC 9110 11.1) -> 200",
    headers: { authorization: `bearer ${KEY}` },
    body: valid,
    status: 200,
  },

  // Gateway headers.
  {
    name: "x-edge-route: sideways -> 400 naming the header",
    headers: { "x-edge-route": "sideways" },
    body: valid,
    status: 400,
    code: "invalid_request",
    param: "x-edge-route",
  },
  {
    name: "x-edge-priority out of range is ignored -> 200",
    headers: { "x-edge-priority": "99" },
    body: valid,
    status: 200,
  },
  {
    name: "a hostile x-request-id is replaced, not echoed -> 200",
    headers: { "x-request-id": "<script>alert(1)</script>" },
    body: valid,
    status: 200,
    check: (res) => {
      if (String(res.headers["x-request-id"]).includes("<")) throw new Error("hostile request id echoed");
    },
  },

  // Prototype pollution. Decision: `__proto__` is an ordinary, unknown key to the client's intent;
  // a valid request carrying one succeeds, the key is not forwarded, and nothing it holds changes
  // what the gateway does (here: `stream`) or any other object.
  {
    name: "a valid request with an extra __proto__ key -> 200, not forwarded, no pollution",
    body: valid.replace(/}$/, ',"__proto__":{"polluted":true,"stream":true}}'),
    status: 200,
    expectHeaders: { "content-type": /^application\/json/ },
    check: (res, upstream) => {
      noProtoPollution();
      if (upstream === undefined || Object.hasOwn(upstream, "__proto__"))
        throw new Error("__proto__ forwarded");
      if (upstream.stream !== undefined) throw new Error("stream smuggled through __proto__");
      if (!res.text.includes('"chat.completion"')) throw new Error("not a JSON completion");
    },
  },
  {
    name: "constructor.prototype in the body -> 200, no pollution",
    body: valid.replace(/}$/, ',"constructor":{"prototype":{"polluted":true}}}'),
    status: 200,
    check: noProtoPollution,
  },
  {
    name: "__proto__ inside a message -> 200, role unchanged",
    body: '{"model":"auto","messages":[{"role":"user","content":"hi","__proto__":{"role":"system"}}]}',
    status: 200,
    check: (_res, upstream) => {
      noProtoPollution();
      const message = (upstream?.messages as Record<string, unknown>[] | undefined)?.[0];
      if (message?.role !== "user") throw new Error("message role changed");
    },
  },
  {
    name: "messages smuggled through __proto__ do not count -> 400 naming 'messages'",
    body: '{"model":"auto","__proto__":{"messages":[{"role":"user","content":"hi"}]}}',
    status: 400,
    code: "invalid_request",
    param: "messages",
  },

  // Valid but unusual text.
  {
    name: "330 KB of emoji, combining marks, RTL and zero-width text -> 200, forwarded intact",
    body: json(chatBody({}, UNICODE)),
    status: 200,
    check: (_res, upstream) => {
      const content = (upstream?.messages as { content?: unknown }[] | undefined)?.[0]?.content;
      if (content !== UNICODE) throw new Error("unicode content changed on the way");
    },
  },
  {
    name: "escaped NUL characters in content -> 200, forwarded intact",
    body: json(chatBody({}, "a\u0000b\u0000")),
    status: 200,
    check: (_res, upstream) => {
      const content = (upstream?.messages as { content?: unknown }[] | undefined)?.[0]?.content;
      if (content !== "a\u0000b\u0000") throw new Error("NUL characters lost");
    },
  },
  {
    name: "a lone surrogate escape in content -> 200",
    body: valid.replace("hello", "\\ud800 hello"),
    status: 200,
  },
  { name: "a valid body sent chunked -> 200", chunked: true, body: valid, status: 200 },
];

export function requestHeaders(row: HostileCase): OutgoingHttpHeaders {
  const headers: Record<string, string | undefined> = {
    "content-type": "application/json",
    authorization: `Bearer ${KEY}`,
    ...row.headers,
  };
  return Object.fromEntries(
    Object.entries(headers).filter(([, v]) => v !== undefined),
  ) as OutgoingHttpHeaders;
}
