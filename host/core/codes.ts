// Named forms of the numeric codes in assembly/codes.ts. test/core/codes.test.ts keeps the two in
// step.

export const AllowResult = { Allow: 0, DenyRequests: 1, DenyTokens: 2, DenyCapacity: 3 } as const;
export type AllowResult = (typeof AllowResult)[keyof typeof AllowResult];

export const SettleResult = { Settled: 0, UnknownClient: 1 } as const;
export type SettleResult = (typeof SettleResult)[keyof typeof SettleResult];

export const TargetKind = { Local: 0, Cloud: 1 } as const;
export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];

export const Circuit = { Closed: 0, Open: 1, HalfOpen: 2 } as const;
export type Circuit = (typeof Circuit)[keyof typeof Circuit];

export const Ticket = { Denied: 0, Normal: 1, Probe: 2 } as const;
export type Ticket = (typeof Ticket)[keyof typeof Ticket];

export const Outcome = { Ok: 0, Error: 1, Timeout: 2, RateLimited: 3, Rejected: 4 } as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export const RouteFlag = {
  RequireLocal: 1,
  AllowCloud: 2,
  AllowQueue: 4,
  ContainsPii: 8,
  Stream: 16,
  RequireCloud: 32,
} as const;

export const Decision = { Local: 0, Cloud: 1, Queue: 2, Reject: 3 } as const;
export type Decision = (typeof Decision)[keyof typeof Decision];

export const Reason = {
  BestScore: 1,
  OnlyCandidate: 2,
  ForcedLocal: 3,
  ForcedCloud: 4,
  PiiLocal: 5,
  NoTarget: 10,
  PiiNoLocal: 11,
  NoCapableTarget: 12,
  ContextTooLong: 13,
  InsufficientMemory: 14,
  CloudUnreachable: 15,
  CircuitOpen: 16,
  /** Host-only: the core trapped twice in a row; the request is refused rather than guessed. */
  CoreFault: 99,
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export const RetryClass = { Success: 0, Retry: 1, RateLimited: 2, Permanent: 3, Dead: 4 } as const;
export type RetryClass = (typeof RetryClass)[keyof typeof RetryClass];

/** Configuration calls answer OK (0) or one of these. */
export const ConfigError = { Range: -1, NotReady: -2, Memory: -3 } as const;

export const TaskClass = { Chat: 0, Code: 1, Math: 2, Reasoning: 3, Creative: 4 } as const;
export type TaskClass = (typeof TaskClass)[keyof typeof TaskClass];

const names = new WeakMap<object, Map<number, string>>();

/** Lower-case snake names for metrics labels and logs, by code (computed once per table). */
export function codeName<T extends Record<string, number>>(table: T, code: number): string {
  let byCode = names.get(table);
  if (!byCode) {
    byCode = new Map(
      Object.entries(table).map(([name, value]) => [
        value,
        name.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? "" : "_") + c.toLowerCase()),
      ]),
    );
    names.set(table, byCode);
  }
  return byCode.get(code) ?? String(code);
}
