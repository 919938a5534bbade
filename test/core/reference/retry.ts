import { ReferencePrng } from "./numeric.js";

export class ReferenceRetry {
  private readonly prng = new ReferencePrng();
  private base = 1000;
  private cap = 300000;
  private maxAttempts = 8;

  retryConfigure(base: number, cap: number, attempts: number): number {
    if (!(base > 0) || !(cap >= base) || attempts < 1) return -1;
    this.base = base;
    this.cap = cap;
    this.maxAttempts = attempts;
    return 0;
  }

  seed(lo: number, hi: number): void {
    this.prng.seed(lo, hi);
  }

  retryDelayMs(attempt: number, retryAfterMs: number): number {
    let ceiling = this.base;
    for (let i = 1; i < attempt && ceiling < this.cap; i++) ceiling *= 2;
    const delay = this.prng.unit() * Math.min(ceiling, this.cap);
    // biome-ignore lint/complexity/useMathMinMax: a NaN Retry-After must be ignored, as in the core
    return retryAfterMs > delay ? retryAfterMs : delay;
  }

  retryClassify(status: number, attempts: number): number {
    if (status >= 200 && status < 300) return 0;
    const retryable = [0, 408, 425, 500, 502, 503, 504].includes(status);
    const c = status === 429 ? 2 : retryable ? 1 : 3;
    return c !== 3 && attempts >= this.maxAttempts ? 4 : c;
  }

  retryMaxAttempts(): number {
    return this.maxAttempts;
  }
}
