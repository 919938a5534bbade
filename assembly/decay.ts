// 2^-x without Math.pow or Math.exp: their AssemblyScript and V8 implementations may differ in the
// last bit, and the TypeScript reference model must reproduce every decision exactly. Only +, -, *
// and / appear, in a fixed order, so any IEEE-754 engine gives the same bits.

const LN2: f64 = 0.6931471805599453;
const C2: f64 = 1.0 / 2.0;
const C3: f64 = -1.0 / 6.0;
const C4: f64 = 1.0 / 24.0;
const C5: f64 = -1.0 / 120.0;
const C6: f64 = 1.0 / 720.0;

/** 2^-x for x >= 0 (relative error below 2e-5); 1 for x <= 0 or NaN, 0 from x >= 64. */
export function exp2neg(x: f64): f64 {
  if (!(x > 0.0)) return 1.0;
  if (x >= 64.0) return 0.0;
  const n = <i32>Math.floor(x);
  const t = (x - <f64>n) * LN2;
  // e^-t by Taylor series in Horner form; t is in [0, ln 2).
  const p = 1.0 + t * (-1.0 + t * (C2 + t * (C3 + t * (C4 + t * (C5 + t * C6)))));
  // 0.5^n by squaring: every product is an exact power of two.
  let scale: f64 = 1.0;
  let base: f64 = 0.5;
  let k = n;
  while (k != 0) {
    if (k & 1) scale *= base;
    base *= base;
    k >>= 1;
  }
  return p * scale;
}
