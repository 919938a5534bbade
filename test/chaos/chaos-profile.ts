// Sizes of the chaos suite. `npm test` runs the short profile (CI: a few minutes on 2 cores at
// most); CHAOS_FULL=1 (`npm run test:chaos`) runs the full one. Single knobs override either:
// CHAOS_REQUESTS, CHAOS_KILLS, CHAOS_SOAK_SECONDS, CHAOS_SOAK_RATE, and CHAOS_SEED to replay a
// crash schedule (the seed is printed with every run's figures).

export const CHAOS_FULL = process.env.CHAOS_FULL === "1";

/** A positive integer from the environment, else `fallback`; a bad value fails loudly. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name}: expected a positive integer, got ${raw}`);
  return value;
}

export const chaosSeed = (): number => envInt("CHAOS_SEED", 1 + Math.floor(Math.random() * 2 ** 31));

/** A small seeded generator (mulberry32): the same seed gives the same schedule. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A uniform integer in [lo, hi]. */
export const between = (random: () => number, lo: number, hi: number): number =>
  lo + Math.floor(random() * (hi - lo + 1));
