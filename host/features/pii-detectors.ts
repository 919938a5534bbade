import { ibanValid, luhnValid } from "./checksums.js";
import { IBAN_LENGTHS } from "./iban-registry.js";
import { PHONE_CANDIDATE, phoneSpan } from "./phone.js";

export type PiiKind = "email" | "phone" | "card" | "iban" | "ipv4" | "ipv6";

/** [start, end) offsets inside a candidate. */
export type Hit = readonly [start: number, end: number];

/**
 * One kind of personal data: a global regex that finds candidates, and `accept`, which returns the
 * part of the candidate that really is one, or undefined to reject it.
 *
 * Linear-time rule for every pattern: it starts with a lookbehind so it only begins at the start of
 * a run of its own characters, and every repeat is bounded, so each start position costs a constant
 * number of steps however the text is built. No nested unbounded quantifiers.
 */
export interface PiiDetector {
  kind: PiiKind;
  pattern: RegExp;
  accept(candidate: string, index: number, text: string): Hit | undefined;
  /**
   * Where the scan resumes after a rejected candidate: one character on, because a valid item may
   * start inside it ("12 4111 1111 1111 1111"), or after it, where a sub-run is never a valid item
   * on its own (phone numbers: the candidate's own rules already try every sensible sub-run).
   */
  resumeAfterReject: "next-char" | "end";
}

const WORD = /\w/;
const ALNUM = /[A-Za-z0-9]/;

function isWordAt(text: string, index: number): boolean {
  const ch = text[index];
  return ch !== undefined && WORD.test(ch);
}

const email: PiiDetector = {
  kind: "email",
  // RFC 5321 caps the local part at 64 characters and a label at 63.
  pattern:
    /(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![\w-])/g,
  accept: (candidate) => [0, candidate.length],
  resumeAfterReject: "next-char",
};

const iban: PiiDetector = {
  kind: "iban",
  pattern: /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}/g,
  accept(candidate, index, text) {
    const length = IBAN_LENGTHS.get(candidate.slice(0, 2).toUpperCase());
    if (length === undefined) return undefined;
    // The candidate may run on into the next word ("... 0130 00 IBAN"); keep exactly the
    // country's number of characters and require that they end at a word boundary.
    let seen = 0;
    let end = 0;
    while (end < candidate.length && seen < length) {
      if (candidate[end] !== " ") seen++;
      end++;
    }
    if (seen < length) return undefined;
    const next = text[index + end];
    if (next !== undefined && ALNUM.test(next)) return undefined;
    return ibanValid(candidate.slice(0, end)) ? [0, end] : undefined;
  },
  resumeAfterReject: "next-char",
};

const CARD_MIN_DIGITS = 13;
const CARD_MAX_DIGITS = 19;

const card: PiiDetector = {
  kind: "card",
  // No leading 0: issuer numbers for payment cards start with 1-9, and zero-padded ids are common.
  pattern: /(?<![\w.,+])[1-9](?:[ -]?\d){12,18}/g,
  accept(candidate, index, text) {
    const groups = candidate.split(/[ -]/);
    // Cards are printed in groups of 4-6 digits (4-4-4-4, 4-6-5); one- and two-digit groups are
    // lists of small numbers, which would pass Luhn one time in ten. So only whole groups before the
    // first short one can be part of a card, and the first group has at least four digits.
    let usable = groups.findIndex((g) => g.length < 3);
    if (usable < 0) usable = groups.length;
    if (groups.length > 1 && (groups[0]?.length ?? 0) < 4) usable = 0;
    if (groups.length === 1) usable = 1;
    let end = -1;
    let digits = "";
    const ends: number[] = [];
    for (let k = 0; k < usable; k++) {
      end += (groups[k]?.length ?? 0) + 1;
      ends.push(end);
    }
    for (let k = usable; k >= 1; k--) {
      const stop = ends[k - 1] ?? 0;
      digits = candidate.slice(0, stop).replace(/[ -]/g, "");
      if (digits.length < CARD_MIN_DIGITS) break;
      if (digits.length > CARD_MAX_DIGITS) continue;
      const glued =
        stop === candidate.length && (isWordAt(text, index + stop) || decimalAfter(text, index + stop));
      if (!glued && luhnValid(digits)) return [0, stop];
    }
    return undefined;
  },
  resumeAfterReject: "next-char",
};

function decimalAfter(text: string, index: number): boolean {
  const ch = text[index];
  const after = text[index + 1];
  return (ch === "." || ch === ",") && after !== undefined && after >= "0" && after <= "9";
}

const ipv4: PiiDetector = {
  kind: "ipv4",
  pattern: /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)/g,
  accept: (candidate) => (ipv4Valid(candidate) ? [0, candidate.length] : undefined),
  resumeAfterReject: "next-char",
};

export function ipv4Valid(text: string): boolean {
  const octets = text.split(".");
  return octets.length === 4 && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255);
}

const ipv6: PiiDetector = {
  kind: "ipv6",
  // Starts after a non-word character, or after a colon that follows one ("ip:fe80::1"), never
  // inside a longer colon run such as a MAC address or a time.
  pattern: /(?<![\w.])(?<![0-9A-Fa-f.]:)[0-9A-Fa-f:][0-9A-Fa-f:.]{1,44}/g,
  accept(candidate, index, text) {
    if (isWordAt(text, index + candidate.length)) return undefined;
    let end = candidate.length;
    while (end > 0 && candidate[end - 1] === ".") end--;
    if (candidate[end - 1] === ":" && candidate[end - 2] !== ":") end--;
    return ipv6Plausible(candidate.slice(0, end)) ? [0, end] : undefined;
  },
  resumeAfterReject: "next-char",
};

const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/**
 * A syntactically valid IPv6 address in full or compressed form, optionally with an IPv4 tail. A
 * compressed form must also name two groups, one of them four hex digits long, so code such as
 * `a[1::2]` or `dead::b` is not flagged; "::1" and "::" identify nobody and are left out too.
 */
export function ipv6Plausible(text: string): boolean {
  let s = text;
  let ipv4Tail = false;
  if (s.includes(".")) {
    const lastColon = s.lastIndexOf(":");
    if (lastColon < 0 || !ipv4Valid(s.slice(lastColon + 1))) return false;
    s = `${s.slice(0, lastColon + 1)}0:0`;
    ipv4Tail = true;
  }
  const gap = s.indexOf("::");
  if (gap !== s.lastIndexOf("::")) return false;
  if (gap < 0) {
    const groups = s.split(":");
    return groups.length === 8 && groups.every((g) => HEX_GROUP.test(g));
  }
  const left = s.slice(0, gap);
  const right = s.slice(gap + 2);
  const groups = [...(left === "" ? [] : left.split(":")), ...(right === "" ? [] : right.split(":"))];
  if (groups.length > 7 || !groups.every((g) => HEX_GROUP.test(g))) return false;
  return ipv4Tail || (groups.length >= 2 && groups.some((g) => g.length === 4));
}

const phone: PiiDetector = {
  kind: "phone",
  pattern: PHONE_CANDIDATE,
  accept(candidate, index, text) {
    const hit = phoneSpan(candidate);
    if (hit === undefined) return undefined;
    return hit[1] === candidate.length && isWordAt(text, index + hit[1]) ? undefined : hit;
  },
  resumeAfterReject: "end",
};

/**
 * Order matters: each kind's matches are masked before the next runs, so the digits of an IBAN are
 * not read again as a card, nor a card, an address or an e-mail as a phone number. The loosest
 * detector, phone, runs last.
 */
export const PII_DETECTORS: readonly PiiDetector[] = [email, iban, card, ipv6, ipv4, phone];
