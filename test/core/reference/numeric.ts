// The reference's versions of the core's arithmetic helpers: the same operations in the same order,
// so both produce the same bits.

const LN2 = Math.LN2; // the same double as the core's literal
const C2 = 1.0 / 2.0;
const C3 = -1.0 / 6.0;
const C4 = 1.0 / 24.0;
const C5 = -1.0 / 120.0;
const C6 = 1.0 / 720.0;

export function exp2neg(x: number): number {
  if (!(x > 0)) return 1;
  if (x >= 64) return 0;
  const n = Math.floor(x);
  const t = (x - n) * LN2;
  const p = 1.0 + t * (-1.0 + t * (C2 + t * (C3 + t * (C4 + t * (C5 + t * C6)))));
  let scale = 1;
  let base = 0.5;
  for (let k = n; k !== 0; k >>= 1) {
    if (k & 1) scale *= base;
    base *= base;
  }
  return p * scale;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** xoshiro128** seeded through splitmix32, written plainly with Math.imul. */
export class ReferencePrng {
  private s = [1, 2, 3, 4];
  private mix = 0;

  private splitmix32(): number {
    this.mix = (this.mix + 0x9e3779b9) >>> 0;
    let z = this.mix;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  seed(lo: number, hi: number): void {
    this.mix = lo >>> 0;
    const a = this.splitmix32();
    const b = this.splitmix32();
    this.mix = (this.mix ^ (hi >>> 0)) >>> 0;
    const c = this.splitmix32();
    const d = this.splitmix32();
    this.s = [(a | b | c | d) === 0 ? 1 : a, b, c, d];
  }

  next(): number {
    const [s0, s1, s2, s3] = this.s as [number, number, number, number];
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0;
    const n3 = (s3 ^ s1) >>> 0;
    const n1 = (s1 ^ n2) >>> 0;
    const n0 = (s0 ^ n3) >>> 0;
    this.s = [n0, n1, (n2 ^ t) >>> 0, rotl(n3, 11)];
    return result;
  }

  unit(): number {
    return this.next() / 4294967296;
  }
}
