// xoshiro128** seeded through splitmix32: 32-bit operations only, so the TypeScript reference can
// reproduce it with Math.imul. The host seeds it; the core has no entropy source of its own (that
// would need an import).

let s0: u32 = 1;
let s1: u32 = 2;
let s2: u32 = 3;
let s3: u32 = 4;
let mix: u32 = 0;

function splitmix32(): u32 {
  mix += 0x9e3779b9;
  let z = mix;
  z = (z ^ (z >>> 16)) * 0x85ebca6b;
  z = (z ^ (z >>> 13)) * 0xc2b2ae35;
  return z ^ (z >>> 16);
}

export function prngSeed(lo: u32, hi: u32): void {
  mix = lo;
  s0 = splitmix32();
  s1 = splitmix32();
  mix ^= hi;
  s2 = splitmix32();
  s3 = splitmix32();
  if ((s0 | s1 | s2 | s3) == 0) s0 = 1;
}

export function prngNext(): u32 {
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  return result;
}

/** Uniform in [0, 1). */
export function prngUnit(): f64 {
  return <f64>prngNext() / 4294967296.0;
}
