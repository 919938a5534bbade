/**
 * Retry-After (RFC 9110 §10.2.3) as milliseconds from `nowMs`: either delay-seconds or an HTTP-date.
 * A date in the past means "now" (0). Anything unparseable is ignored rather than guessed at.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Date.parse accepts far more than IMF-fixdate; requiring a letter keeps bare numbers like "1.5" out.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const atMs = Date.parse(trimmed);
  if (Number.isNaN(atMs)) return undefined;
  return Math.max(0, atMs - nowMs);
}
