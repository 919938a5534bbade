/**
 * Broken variants of the tiny model for the GGUF tests: each takes the generator's parts, changes
 * one thing and writes a real file into a temp dir.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeGguf, type GgufEntry, type GgufInput } from "../../host/models/gguf-writer.js";
import { buildTinyModel, tinyModelParts } from "../../host/models/tiny-model.js";

export interface TempDir {
  path: string;
  write(name: string, data: Uint8Array): Promise<string>;
  remove(): Promise<void>;
}

export async function tempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    async write(name, data) {
      const file = join(path, name);
      await writeFile(file, data);
      return file;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

export const tinyBytes = (): Buffer => Buffer.from(buildTinyModel());

/** The tiny model with `change` applied to its parts. */
export function tinyVariant(change: (parts: GgufInput) => GgufInput): Uint8Array {
  return encodeGguf(change(tinyModelParts()));
}

export const withoutKey = (key: string) =>
  tinyVariant((p) => ({ ...p, metadata: p.metadata.filter((e) => e.key !== key) }));

export const replacingKey = (key: string, entry: (old: GgufEntry) => GgufEntry) =>
  tinyVariant((p) => ({ ...p, metadata: p.metadata.map((e) => (e.key === key ? entry(e) : e)) }));

/** A copy of `bytes` with a little-endian u32 written at `offset`. */
export function patchU32(bytes: Uint8Array, offset: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt32LE(value, offset);
  return copy;
}
