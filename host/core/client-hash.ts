import { createHash } from "node:crypto";

/**
 * The core keys clients by a u64 passed as two u32s. Taking them from SHA-256 of the client's
 * identity keeps the table evenly spread and never hands the core a secret. Compute once per client
 * and cache it: hashing costs far more than the core call.
 */
export function clientHash(identity: string): [lo: number, hi: number] {
  const d = createHash("sha256").update(identity).digest();
  return [d.readUInt32LE(0), d.readUInt32LE(4)];
}
