// fast-check generators of hostile HTTP bodies, shared by the property tests of both APIs
// (hostile-input.test.ts for /v1, hostile-mcp.test.ts for /mcp). Each body starts from a valid
// request of the API under test (its `template`) and breaks one thing: random bytes, nesting far
// deeper than any parser's recursion, a string near the body limit, a value of the wrong type,
// prototype-pollution keys, Unicode that is valid, invalid or merely awkward, or a content type that
// is not JSON. Bodies are built as bytes, so what is sent is exactly what was generated.

import fc from "fast-check";

export type HostileKind =
  | "random-bytes"
  | "deep-nesting"
  | "huge-string"
  | "wrong-type"
  | "prototype-keys"
  | "unicode"
  | "content-type";

export interface HostileBody {
  kind: HostileKind;
  /** undefined: no Content-Type header at all. */
  contentType: string | undefined;
  body: Buffer;
}

export interface HostileOptions {
  /** A valid request of the API: every hostile body is this with one thing broken. */
  template: Record<string, unknown>;
  /** The gateway's body limit: huge strings stay just under it. */
  limitBytes: number;
}

export const JSON_TYPE = "application/json";

/** A placeholder no generated value contains, swapped for the raw hostile fragment after stringify. */
const HOLE = "\u0000hostile-hole\u0000";
const HOLE_JSON = JSON.stringify(HOLE);

/** Every path in the template to an object member or array element, the root excluded. */
export function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [];
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
}

function withHole(template: Record<string, unknown>, path: (string | number)[]): string {
  const copy = structuredClone(template) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path.at(-1) as string | number] = HOLE;
  return JSON.stringify(copy);
}

/** The template as bytes with the value at `path` replaced by `fragment` (raw JSON text or bytes). */
export function splice(
  template: Record<string, unknown>,
  path: (string | number)[],
  fragment: string | Buffer,
): Buffer {
  const text = withHole(template, path);
  const at = text.indexOf(HOLE_JSON);
  return Buffer.concat([
    Buffer.from(text.slice(0, at), "utf8"),
    typeof fragment === "string" ? Buffer.from(fragment, "utf8") : fragment,
    Buffer.from(text.slice(at + HOLE_JSON.length), "utf8"),
  ]);
}

/** The template with a member added first to the object at `path` (the root when empty), as raw text. */
function addMember(template: Record<string, unknown>, path: (string | number)[], member: string): Buffer {
  let target: unknown = template;
  for (const key of path) target = (target as Record<string | number, unknown>)[key];
  const text = JSON.stringify(target);
  const withMember = text === "{}" ? `{${member}}` : text.replace(/^\{/, `{${member},`);
  return path.length === 0 ? Buffer.from(withMember) : splice(template, path, withMember);
}

const objectPaths = (template: Record<string, unknown>) =>
  pathsOf(template).filter((p) => {
    let v: unknown = template;
    for (const k of p) v = (v as Record<string | number, unknown>)[k];
    return v !== null && typeof v === "object" && !Array.isArray(v);
  });

/** Strings that are legal but awkward, and escapes of what UTF-8 cannot carry. */
const UNICODE_JSON_STRINGS = [
  '"\\ud800"',
  '"\\udfff\\ud800"',
  '"a\\u0000b"',
  '"\\ufeff\\ufffe\\uffff"',
  JSON.stringify("👩‍👩‍👧‍👦🏳️‍🌈🇺🇳"),
  JSON.stringify(`e${"\u0301".repeat(2_000)}`),
  JSON.stringify("\u202Eevil\u202C\u200B\u2028\u2029"),
  JSON.stringify("𠜎𠜱𠝹".repeat(500)),
  JSON.stringify("\u{10FFFF}\u{E0001}\u{1F600}"),
];

/** Byte sequences that are not UTF-8, placed inside a JSON string. */
const INVALID_UTF8 = [
  [0xc0, 0xaf], // overlong "/"
  [0xed, 0xa0, 0x80], // an encoded surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xff],
  [0xc3], // truncated
  [0xe2, 0x82], // truncated
];

const weirdValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1e308",
    "-1e308",
    "1e400",
    "123456789012345678901234567890",
    "0.1e-400",
    '""',
    "[]",
    "{}",
    "[[[]]]",
    '{"":{"":{}}}',
    '"\\u0000"',
  ),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
);

const deepNesting: fc.Arbitrary<string> = fc
  .record({
    depth: fc.integer({ min: 64, max: 50_000 }),
    shape: fc.constantFrom("arrays", "objects", "mixed"),
  })
  .map(({ depth, shape }) => {
    if (shape === "arrays") return `${"[".repeat(depth)}${"]".repeat(depth)}`;
    if (shape === "objects") return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    return `${'[{"a":'.repeat(depth)}1${"}]".repeat(depth)}`;
  });

const POLLUTION_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf"];

const pollutionMember: fc.Arbitrary<string> = fc
  .record({
    key: fc.constantFrom(...POLLUTION_KEYS),
    inner: fc.constantFrom(
      '{"polluted":true}',
      '{"prototype":{"polluted":true}}',
      '{"__proto__":{"polluted":true}}',
      '{"jsonrpc":"2.0","method":"tools/call","stream":true,"role":"system"}',
      "null",
      '"polluted"',
      "[1,2]",
    ),
  })
  .map(({ key, inner }) => `${JSON.stringify(key)}:${inner}`);

const WRONG_CONTENT_TYPES = [
  undefined,
  "",
  "text/plain",
  "text/html; charset=utf-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
  "application/jsonx",
  "application/json-seq",
  "application/vnd.api+json",
  "application/xml",
  "*/*",
  "application",
  `application/${"x".repeat(300)}`,
];

/** Hostile bodies built from `o.template`, with the content type each is sent with. */
export function hostileBodies(o: HostileOptions): fc.Arbitrary<HostileBody> {
  const paths = pathsOf(o.template);
  const objects = [[], ...objectPaths(o.template)] as (string | number)[][];
  const path = fc.constantFrom(...paths);
  const json = (kind: HostileKind) => (body: Buffer) =>
    ({ kind, contentType: JSON_TYPE, body }) as HostileBody;
  const templateBytes = Buffer.from(JSON.stringify(o.template), "utf8");
  const hugeRoom = Math.max(1_024, o.limitBytes - templateBytes.byteLength - 64);

  return fc.oneof(
    fc.uint8Array({ maxLength: 4_096 }).map((b) => json("random-bytes")(Buffer.from(b))),
    // Bytes of a valid request with a few flipped: almost JSON, the hardest kind for a parser.
    fc
      .array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
        minLength: 1,
        maxLength: 4,
      })
      .map((flips) => {
        const b = Buffer.from(templateBytes);
        for (const f of flips) b[f.at % b.length] = f.byte;
        return json("random-bytes")(b);
      }),
    fc
      .tuple(fc.constantFrom<(string | number)[] | null>(null, ...paths), deepNesting)
      .map(([p, nest]) => json("deep-nesting")(p === null ? Buffer.from(nest) : splice(o.template, p, nest))),
    fc
      .record({
        p: path,
        size: fc.integer({ min: 16_384, max: hugeRoom }),
        unit: fc.constantFrom("a", "é", "€", "𝄞", "\\u0000", "\\\\", '\\"'),
      })
      .map(({ p, size, unit }) => {
        // Escapes count as their bytes in the body: repeat units until the body is near the limit.
        const unitBytes = Buffer.byteLength(unit);
        return json("huge-string")(splice(o.template, p, `"${unit.repeat(Math.floor(size / unitBytes))}"`));
      }),
    fc.tuple(path, weirdValue).map(([p, v]) => json("wrong-type")(splice(o.template, p, v))),
    fc
      .tuple(fc.constantFrom(...objects), fc.array(pollutionMember, { minLength: 1, maxLength: 3 }))
      .map(([p, members]) => json("prototype-keys")(addMember(o.template, p, members.join(",")))),
    fc
      .tuple(
        path,
        fc.oneof(
          fc.constantFrom(...UNICODE_JSON_STRINGS),
          fc.constantFrom(...INVALID_UTF8).map((bytes) => Buffer.from([0x22, 0x61, ...bytes, 0x62, 0x22])),
          fc.string({ unit: "binary", maxLength: 64 }).map((s) => JSON.stringify(s)),
        ),
      )
      .map(([p, v]) => json("unicode")(splice(o.template, p, v))),
    // A byte-order mark before the JSON (RFC 8259 8.1: must not be added; may be ignored).
    fc.constant(json("unicode")(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), templateBytes]))),
    fc
      .constantFrom(...WRONG_CONTENT_TYPES)
      .map((contentType): HostileBody => ({ kind: "content-type", contentType, body: templateBytes })),
  );
}

/** Throws when a request body managed to change Object.prototype in this process. */
export function expectNoPrototypePollution(): void {
  const probe = {} as Record<string, unknown>;
  for (const key of ["polluted", "stream", "role", "method", "jsonrpc"])
    if (probe[key] !== undefined) throw new Error(`Object.prototype.${key} was set by a request body`);
}
