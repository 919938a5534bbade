import type { z } from "zod";

/**
 * Environment variables and flags arrive as strings, while the core's schema (owned elsewhere)
 * declares plain `z.number()`. Rather than loosen every schema with `z.coerce`, which would turn
 * "" into 0 and hide typos, the loader looks up the schema node a string is headed for and
 * converts only where that node wants a number or a boolean. Anything else stays a string, so zod
 * reports it against the key with its own message.
 */

type Schema = z.ZodType;

/** The parts of zod v4's public `_zod.def` the config code reads; wider than any single def type. */
export interface LooseDef {
  type: string;
  innerType?: Schema;
  in?: Schema;
  shape?: Record<string, Schema>;
  valueType?: Schema;
  element?: Schema;
  options?: Schema[];
}

export function defOf(schema: Schema): LooseDef {
  return schema._zod.def as unknown as LooseDef;
}

/** Schema types that wrap one inner schema without changing its shape. */
export const WRAPPERS = new Set([
  "default",
  "prefault",
  "optional",
  "nullable",
  "readonly",
  "catch",
  "nonoptional",
]);

function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === "pipe" && def.in) current = def.in;
    else return current;
  }
}

/** The schema node at `path`, or undefined when the path leads nowhere (an unknown key). */
export function schemaAt(schema: Schema, path: readonly string[]): Schema | undefined {
  let current = unwrap(schema);
  for (const key of path) {
    const def = defOf(current);
    // hasOwn: a key such as "constructor" must not find Object.prototype's member.
    const next =
      def.type === "object"
        ? def.shape !== undefined && Object.hasOwn(def.shape, key)
          ? def.shape[key]
          : undefined
        : def.type === "record"
          ? def.valueType
          : undefined;
    if (next === undefined) return undefined;
    current = unwrap(next);
  }
  return current;
}

const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "off"]);

/** Converts `raw` to what `schema` expects when that is unambiguous; otherwise returns it unchanged. */
export function coerceScalar(schema: Schema | undefined, raw: string): unknown {
  if (schema === undefined) return raw;
  const text = raw.trim();
  switch (defOf(schema).type) {
    case "number": {
      if (text === "") return raw;
      const value = Number(text);
      return Number.isFinite(value) ? value : raw;
    }
    case "boolean": {
      const word = text.toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return raw;
    }
    default:
      return raw;
  }
}
