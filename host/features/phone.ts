/**
 * Telling phone numbers from the other digit groups in prose (years, prices, versions, dates, ids).
 * A candidate is a run of digits, spaces, dashes, dots and parentheses, optionally after "+"; it
 * counts as a phone number when it has 9 to 15 digits (E.164 allows at most 15) and one of these
 * shapes:
 *
 * - international: "+" and a country code not starting with 0, any of the usual separators;
 * - area code in parentheses: "(555) 123-4567";
 * - national trunk prefix: starts with 0 (or 00 and a country code), one kind of separator, groups of
 *   two digits or more, e.g. "020 7946 0958", "06 12 34 56 78", "0151 23456789";
 * - grouped: three or more groups of 2-4 digits with one kind of separator, e.g. "555-123-4567",
 *   or the North American "1-800-555-1234".
 *
 * Rejected on purpose: bare digit runs without a 0 or "+" (order numbers, Unix times), groups of
 * three after the first with spaces or dots (thousands separators: "123 456 789"), mixed separators
 * ("2024.01.15 12"), one-digit groups (versions such as "10.0.19041.1234"), and runs of years.
 */

export const PHONE_MIN_DIGITS = 9;
export const PHONE_MAX_DIGITS = 15;

/** Candidate runs; bounded repeats keep every attempt constant-time. */
export const PHONE_CANDIDATE = /(?<![\w+.,()-])(?:\+|\()?\d[\d ().-]{5,28}\d/g;

const ALLOWED_SEPARATORS = new Set([" ", "-", ".", "(", ")", " (", ") ", ")-", "-("]);
const PLAIN_SEPARATORS = new Set([" ", "-", "."]);
const YEAR = /^(?:19|20)\d\d$/;

interface Shape {
  plus: boolean;
  lead: boolean;
  groups: string[];
  /** seps[i] sits between groups[i] and groups[i + 1]. */
  seps: string[];
  /** Offset of each group in the candidate. */
  starts: number[];
}

function parse(candidate: string): Shape {
  let i = 0;
  const plus = candidate[0] === "+";
  if (plus) i++;
  const lead = candidate[i] === "(";
  if (lead) i++;
  const shape: Shape = { plus, lead, groups: [], seps: [], starts: [] };
  while (i < candidate.length) {
    const start = i;
    const digit = isDigit(candidate.charCodeAt(i));
    while (i < candidate.length && isDigit(candidate.charCodeAt(i)) === digit) i++;
    if (digit) shape.starts.push(start);
    (digit ? shape.groups : shape.seps).push(candidate.slice(start, i));
  }
  return shape;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function parenthesesBalanced(shape: Shape, seps: string[]): boolean {
  let open = shape.lead ? 1 : 0;
  let pairs = 0;
  for (const sep of seps) {
    for (const ch of sep) {
      if (ch === "(") {
        if (open > 0) return false;
        open++;
      } else if (ch === ")") {
        if (open === 0) return false;
        open--;
        pairs++;
      }
    }
  }
  return open === 0 && pairs <= 1;
}

function isPhoneShape(shape: Shape, groups: string[], seps: string[]): boolean {
  const digits = groups.join("");
  if (digits.length < PHONE_MIN_DIGITS || digits.length > PHONE_MAX_DIGITS) return false;
  if (!seps.every((sep) => ALLOWED_SEPARATORS.has(sep))) return false;
  if (!parenthesesBalanced(shape, seps)) return false;
  if (shape.plus) return digits[0] !== "0";
  if (groups.every((g) => YEAR.test(g))) return false;
  if (shape.lead) {
    // "(555) 123-4567": a parenthesised area code, then plain separators.
    const [first = "", ...rest] = groups;
    const [close = "", ...others] = seps;
    const areaCode = first.length >= 2 && first.length <= 5 && (close === ")" || close === ") ");
    return areaCode && rest.length > 0 && others.every((sep) => PLAIN_SEPARATORS.has(sep));
  }
  if (!seps.every((sep) => sep === seps[0] && PLAIN_SEPARATORS.has(sep))) return false;
  // National trunk prefix ("020 7946 0958", "0612345678") or international "00" prefix.
  if (/^0[1-9]|^00[1-9]/.test(digits)) return groups.every((g) => g.length >= 2);
  if (seps.length < 2) return false;
  // North American "1-800-555-1234".
  if (groups[0] === "1" && groups.map((g) => g.length).join(",") === "1,3,3,4") return true;
  if (groups.some((g) => g.length < 2 || g.length > 4)) return false;
  // "123 456 789" and "1.234.567" are thousands separators, not a dialling plan.
  if (seps[0] !== "-" && groups.slice(1).every((g) => g.length === 3)) return false;
  return true;
}

/**
 * The longest run of whole groups in `candidate` that is a phone number, as [start, end) offsets.
 * A shorter run is tried only where the candidate changes separator ("555-123-4567 2024", "room 12
 * 555-123-4567"), so "4111 1111 1111 1112" is not cut down to a twelve-digit phone number.
 */
export function phoneSpan(candidate: string): [start: number, end: number] | undefined {
  const shape = parse(candidate);
  const { groups, seps, starts } = shape;
  const count = groups.length;
  const digitsBefore = [0];
  for (const g of groups) digitsBefore.push((digitsBefore.at(-1) ?? 0) + g.length);
  // With one kind of separator no sub-run may be cut out, so only the whole candidate is tried.
  const uniform = seps.every((sep) => sep === seps[0]);
  for (let length = count; length >= 1; length--) {
    for (let from = 0; from + length <= count; from++) {
      const to = from + length;
      const digits = (digitsBefore[to] ?? 0) - (digitsBefore[from] ?? 0);
      if (digits < PHONE_MIN_DIGITS || digits > PHONE_MAX_DIGITS) continue;
      if (uniform && length < count) return undefined;
      const inner = seps.slice(from, to - 1);
      if (from > 0 && inner.includes(seps[from - 1] ?? "")) continue;
      if (to < count && inner.includes(seps[to - 1] ?? "")) continue;
      const part = from === 0 ? shape : { ...shape, plus: false, lead: false };
      if (!isPhoneShape(part, groups.slice(from, to), inner)) continue;
      const end = (starts[to - 1] ?? 0) + (groups[to - 1]?.length ?? 0);
      return [from === 0 ? 0 : (starts[from] ?? 0), end];
    }
  }
  return undefined;
}
