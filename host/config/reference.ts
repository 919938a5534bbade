import { z } from "zod";
import { defOf, WRAPPERS } from "./coerce.js";
import { gatewayConfigSchema } from "./schema.js";
import { envNameFor, FLAG_PATHS } from "./sources.js";

/**
 * The configuration reference, read from the schema itself so docs/configuration.md cannot drift
 * from what the loader accepts. Structure, defaults and descriptions come from walking zod's
 * `def`s (the same walk coerce.ts does for values); types come from zod's JSON Schema export of
 * each key on its input side, which already spells out enums, literals, bounds and unions.
 */

/** What the key holds when it is left out, as the schema yields it. */
export type ReferenceDefault = { kind: "value"; value: unknown } | { kind: "unset" } | { kind: "required" };

export interface ReferenceEntry {
  /** Dotted path; `[]` marks a list's items, `<name>` a map key the operator chooses. */
  key: string;
  /** Markdown: `string`, `integer 0 to 65535`, `` `all` | `none` | list of string ``. */
  type: string;
  default: ReferenceDefault;
  /** The variable that sets the key; absent when only the YAML file can hold it. */
  env?: string;
  flag?: string;
  description: string;
  /** Set when the key exists in some forms of a union only, e.g. `["HTTP upstream"]`. */
  variants?: string[];
}

export interface ReferenceSection {
  name: string;
  description: string;
  entries: ReferenceEntry[];
}

type Schema = z.ZodType;

/** The schema and every wrapper under it, outermost first; the last one is the value's own type. */
function layers(schema: Schema): Schema[] {
  const found = [schema];
  for (;;) {
    const def = defOf(found[found.length - 1] as Schema);
    const next = WRAPPERS.has(def.type) ? def.innerType : def.type === "pipe" ? def.in : undefined;
    if (next === undefined) return found;
    found.push(next);
  }
}

function coreOf(schema: Schema): Schema {
  return layers(schema).at(-1) as Schema;
}

/** `.describe()` may sit on any layer (`.describe().optional()` or `.optional().describe()`). */
function metaOf(schema: Schema, field: "description" | "title"): string | undefined {
  for (const layer of layers(schema)) {
    const value = z.globalRegistry.get(layer)?.[field];
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

function defaultOf(schema: Schema): ReferenceDefault {
  const result = schema.safeParse(undefined);
  if (!result.success) return { kind: "required" };
  return result.data === undefined ? { kind: "unset" } : { kind: "value", value: result.data };
}

function isObject(schema: Schema): boolean {
  return defOf(coreOf(schema)).type === "object";
}

/** A union whose every form is an object: documented key by key, each key marked with its forms. */
function objectVariants(schema: Schema): Schema[] | undefined {
  const def = defOf(coreOf(schema));
  if (def.type !== "union" || def.options === undefined) return undefined;
  return def.options.every(isObject) ? def.options : undefined;
}

// ---- types, from the JSON Schema export ----

interface JsonSchema {
  type?: string;
  title?: string;
  format?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
}

function literal(value: unknown): string {
  return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

function numberType(name: string, s: JsonSchema): string {
  // zod's int() brings the safe-integer range along; it says nothing an operator needs.
  const min = s.minimum === Number.MIN_SAFE_INTEGER ? undefined : s.minimum;
  const max = s.maximum === Number.MAX_SAFE_INTEGER ? undefined : s.maximum;
  if (min !== undefined && max !== undefined) return `${name} ${min} to ${max}`;
  const bounds = [
    min === undefined ? undefined : `≥ ${min}`,
    s.exclusiveMinimum === undefined ? undefined : `> ${s.exclusiveMinimum}`,
    max === undefined ? undefined : `≤ ${max}`,
    s.exclusiveMaximum === undefined ? undefined : `< ${s.exclusiveMaximum}`,
  ].filter((bound) => bound !== undefined);
  return bounds.length === 0 ? name : `${name} ${bounds.join(", ")}`;
}

function listType(s: JsonSchema): string {
  const item = s.items === undefined ? "anything" : typeText(s.items);
  const items = item.includes(" | ") ? `(${item})` : item;
  const count = [
    s.minItems === undefined ? undefined : `at least ${s.minItems}`,
    s.maxItems === undefined ? undefined : `at most ${s.maxItems}`,
  ].filter((part) => part !== undefined);
  return count.length === 0 ? `list of ${items}` : `list of ${items}, ${count.join(", ")}`;
}

function typeText(s: JsonSchema): string {
  if (s.anyOf !== undefined) return s.anyOf.map(typeText).join(" | ");
  if (s.const !== undefined) return literal(s.const);
  if (s.enum !== undefined) return s.enum.map(literal).join(" | ");
  switch (s.type) {
    case "string":
      return s.format === "uri" ? "URL" : "string";
    case "integer":
    case "number":
      return numberType(s.type, s);
    case "array":
      return listType(s);
    case "object": {
      if (s.title !== undefined) return s.title;
      const values = s.additionalProperties;
      return typeof values === "object" ? `map of name to ${typeText(values)}` : "object";
    }
    default:
      return s.type ?? "any";
  }
}

function typeOf(schema: Schema): string {
  return typeText(z.toJSONSchema(coreOf(schema), { io: "input", unrepresentable: "any" }) as JsonSchema);
}

// ---- the walk ----

/** `envPath` is the key's path for the variable; undefined inside lists, which no variable reaches. */
interface Place {
  key: string;
  envPath: readonly string[] | undefined;
}

const FLAG_BY_KEY = new Map(Object.entries(FLAG_PATHS).map(([flag, path]) => [path.join("."), `--${flag}`]));

function entry(schema: Schema, key: string, envPath: readonly string[] | undefined): ReferenceEntry {
  const env = envPath === undefined ? undefined : envNameFor(envPath);
  const flag = envPath === undefined ? undefined : FLAG_BY_KEY.get(envPath.join("."));
  return {
    key,
    type: typeOf(schema),
    default: defaultOf(schema),
    ...(env === undefined ? {} : { env }),
    ...(flag === undefined ? {} : { flag }),
    description: metaOf(schema, "description") ?? "",
  };
}

function visitObject(schema: Schema, place: Place, out: ReferenceEntry[]): void {
  for (const [name, child] of Object.entries(defOf(coreOf(schema)).shape ?? {})) {
    const envPath = place.envPath === undefined ? undefined : [...place.envPath, name];
    visitKey(child, { key: `${place.key}.${name}`, envPath }, out);
  }
}

/** Each form's keys in turn; a key every form shares in the same way becomes one entry. */
function visitVariants(variants: Schema[], key: string, out: ReferenceEntry[]): void {
  const titles = variants.map((variant, index) => metaOf(variant, "title") ?? `form ${index + 1}`);
  const merged: { entry: ReferenceEntry; variants: string[] }[] = [];
  variants.forEach((variant, index) => {
    const rows: ReferenceEntry[] = [];
    visitObject(variant, { key, envPath: undefined }, rows);
    for (const row of rows) {
      const same = merged.find((seen) => JSON.stringify(seen.entry) === JSON.stringify(row));
      if (same !== undefined) same.variants.push(titles[index] as string);
      else merged.push({ entry: row, variants: [titles[index] as string] });
    }
  });
  for (const { entry, variants: forms } of merged) {
    out.push(forms.length === variants.length ? entry : { ...entry, variants: forms });
  }
}

function visitKey(schema: Schema, place: Place, out: ReferenceEntry[]): void {
  const def = defOf(coreOf(schema));
  if (def.type === "object") {
    visitObject(schema, place, out);
    return;
  }
  if (def.type === "array" && def.element !== undefined) {
    const key = `${place.key}[]`;
    out.push(entry(schema, key, undefined));
    const variants = objectVariants(def.element);
    if (variants !== undefined) visitVariants(variants, key, out);
    else if (isObject(def.element)) visitObject(def.element, { key, envPath: undefined }, out);
    return;
  }
  if (def.type === "record" && def.valueType !== undefined) {
    const envPath = place.envPath === undefined ? undefined : [...place.envPath, "<name>"];
    const key = `${place.key}.<name>`;
    if (isObject(def.valueType)) {
      out.push(entry(schema, place.key, undefined));
      visitObject(def.valueType, { key, envPath }, out);
    } else {
      // A map of plain values: one entry, set per name with the `<NAME>` variable.
      out.push({ ...entry(schema, place.key, undefined), ...entryEnv(envPath) });
    }
    return;
  }
  const variants = objectVariants(schema);
  if (variants !== undefined) {
    out.push(entry(schema, place.key, undefined));
    visitVariants(variants, place.key, out);
    return;
  }
  out.push(entry(schema, place.key, place.envPath));
}

function entryEnv(envPath: readonly string[] | undefined): { env?: string } {
  const env = envPath === undefined ? undefined : envNameFor(envPath);
  return env === undefined ? {} : { env };
}

/** Every key of the configuration, by top-level section in schema order. */
export function configReference(schema: Schema = gatewayConfigSchema): ReferenceSection[] {
  return Object.entries(defOf(coreOf(schema)).shape ?? {}).map(([name, section]) => {
    const entries: ReferenceEntry[] = [];
    visitKey(section, { key: name, envPath: [name] }, entries);
    return { name, description: metaOf(section, "description") ?? "", entries };
  });
}
