// Time intervals (wall-clock ms) for judging retry gaps: when was the sync worker not allowed to
// send, and how much of a gap did that cover.

export type Interval = readonly [startMs: number, endMs: number];

/** Spans the cloud monitor reported the cloud unreachable, from its log lines. */
export function unreachableSpans(lines: readonly Record<string, unknown>[], untilMs: number): Interval[] {
  const spans: Interval[] = [];
  let downSince: number | undefined;
  for (const line of lines) {
    if (line.msg === "cloud unreachable" && downSince === undefined) downSince = Number(line.time);
    if (line.msg === "cloud reachable again" && downSince !== undefined) {
      spans.push([downSince, Number(line.time)]);
      downSince = undefined;
    }
  }
  if (downSince !== undefined) spans.push([downSince, untilMs]);
  return spans;
}

/** Spans with at least `limit` of the given intervals running at once (every worker slot busy). */
export function busySpans(running: readonly Interval[], limit: number): Interval[] {
  const edges = running.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]) as [number, number][];
  // Ends before starts at the same instant: a slot freed and taken again was never all busy.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const spans: Interval[] = [];
  let active = 0;
  let since = 0;
  for (const [t, delta] of edges) {
    if (active < limit && active + delta >= limit) since = t;
    if (active >= limit && active + delta < limit) spans.push([since, t]);
    active += delta;
  }
  return spans;
}

/** How much of [fromMs, toMs] the union of `spans` covers. */
export function coveredMs(fromMs: number, toMs: number, spans: readonly Interval[]): number {
  const clipped = spans
    .map(([s, e]) => [Math.max(s, fromMs), Math.min(e, toMs)] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let reach = fromMs;
  for (const [s, e] of clipped) {
    if (e <= reach) continue;
    total += e - Math.max(s, reach);
    reach = e;
  }
  return total;
}

/**
 * Spans the event loop could not run a timer: a 5 ms timer re-armed each time it fires, noting when
 * it fired more than 2 ms late. The gateway under test shares the loop, so its retry timers were
 * held up just as long.
 */
export function watchEventLoop(): { stalls: Interval[]; stop(): void } {
  const stalls: Interval[] = [];
  const periodMs = 5;
  let timer: NodeJS.Timeout | undefined;
  const arm = (expectedMs: number): void => {
    timer = setTimeout(() => {
      const now = Date.now();
      if (now - expectedMs > 2) stalls.push([expectedMs, now]);
      arm(now + periodMs);
    }, periodMs);
    timer.unref();
  };
  arm(Date.now() + periodMs);
  return { stalls, stop: () => clearTimeout(timer) };
}
