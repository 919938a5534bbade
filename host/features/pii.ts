import { PII_DETECTORS, type PiiDetector, type PiiKind } from "./pii-detectors.js";

export type { PiiKind } from "./pii-detectors.js";

/** Reporting order of `kinds`. */
export const PII_KINDS: readonly PiiKind[] = ["email", "phone", "card", "iban", "ipv4", "ipv6"];

/**
 * Only this much text is scanned, so a huge body costs no more than a 64 KB one. The flag is a
 * routing hint (keep the request on a local model), not a data-loss-prevention control: personal
 * data beyond the bound is not seen.
 */
export const PII_SCAN_LIMIT_CHARS = 64 * 1024;

export interface PiiResult {
  found: boolean;
  kinds: PiiKind[];
}

/** Masks found matches so a later, looser detector does not read their digits again. */
const MASK_CHAR = "_";

/** Which kinds of personal data appear in the first PII_SCAN_LIMIT_CHARS of `text`. Never throws. */
export function detectPii(text: string): PiiResult {
  if (typeof text !== "string" || text === "") return { found: false, kinds: [] };
  let scan = text.length > PII_SCAN_LIMIT_CHARS ? text.slice(0, PII_SCAN_LIMIT_CHARS) : text;
  const found = new Set<PiiKind>();
  for (const detector of PII_DETECTORS) {
    const spans = findSpans(detector, scan);
    if (spans.length === 0) continue;
    found.add(detector.kind);
    scan = mask(scan, spans);
  }
  const kinds = PII_KINDS.filter((kind) => found.has(kind));
  return { found: kinds.length > 0, kinds };
}

type Span = [start: number, end: number];

function findSpans({ pattern, accept, resumeAfterReject }: PiiDetector, text: string): Span[] {
  const spans: Span[] = [];
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const hit = accept(match[0], match.index, text);
    if (hit !== undefined) {
      spans.push([match.index + hit[0], match.index + hit[1]]);
      pattern.lastIndex = match.index + hit[1];
    } else {
      // Resuming one character on stays linear: the patterns' lookbehinds make positions inside
      // a run fail at once, and every attempt is bounded.
      pattern.lastIndex = match.index + (resumeAfterReject === "end" ? match[0].length : 1);
    }
  }
  return spans;
}

function mask(text: string, spans: Span[]): string {
  let out = "";
  let at = 0;
  for (const [start, end] of spans) {
    out += text.slice(at, start) + MASK_CHAR.repeat(end - start);
    at = end;
  }
  return out + text.slice(at);
}
