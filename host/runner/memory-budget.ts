/** A model as the memory budget sees it. */
export interface BudgetEntry {
  id: string;
  memoryMb: number;
  /** Loaded or loading: counts against the budget. */
  resident: boolean;
  /** Running or queued requests: a busy model is never unloaded under them. */
  busy: boolean;
  lastUsedMs: number;
}

export type EvictionPlan =
  | { ok: true; evict: string[] }
  | { ok: false; reason: "too_large" | "busy"; usedMb: number; busyIds: string[] };

/**
 * Which idle models to unload, least recently used first, so that `needMb` more fits in `budgetMb`.
 * Refuses when the model alone exceeds the budget, or when only busy models could make room.
 */
export function planEvictions(
  entries: readonly BudgetEntry[],
  candidateId: string,
  needMb: number,
  budgetMb: number,
): EvictionPlan {
  const resident = entries.filter((e) => e.resident && e.id !== candidateId);
  let usedMb = resident.reduce((sum, e) => sum + e.memoryMb, 0);
  if (needMb > budgetMb) return { ok: false, reason: "too_large", usedMb, busyIds: [] };
  const evict: string[] = [];
  const idle = resident.filter((e) => !e.busy).sort((a, b) => a.lastUsedMs - b.lastUsedMs);
  for (const entry of idle) {
    if (usedMb + needMb <= budgetMb) break;
    evict.push(entry.id);
    usedMb -= entry.memoryMb;
  }
  if (usedMb + needMb > budgetMb) {
    return { ok: false, reason: "busy", usedMb, busyIds: resident.filter((e) => e.busy).map((e) => e.id) };
  }
  return { ok: true, evict };
}
