// Every number that crosses the boundary as a code. host/core/codes.ts mirrors these as enums and a
// test keeps the two in step.

// Generic results of configuration calls.
export const OK: i32 = 0;
export const ERR_RANGE: i32 = -1;
export const ERR_NOT_READY: i32 = -2;
export const ERR_MEMORY: i32 = -3;

// allow()
export const ALLOW: i32 = 0;
export const DENY_REQUESTS: i32 = 1;
export const DENY_TOKENS: i32 = 2;
export const DENY_CAPACITY: i32 = 3;

// settle()
export const SETTLED: i32 = 0;
export const UNKNOWN_CLIENT: i32 = 1;

// Target kinds.
export const KIND_LOCAL: i32 = 0;
export const KIND_CLOUD: i32 = 1;

// Circuit states.
export const CLOSED: i32 = 0;
export const OPEN: i32 = 1;
export const HALF_OPEN: i32 = 2;

// targetStart() tickets.
export const TICKET_DENIED: i32 = 0;
export const TICKET_NORMAL: i32 = 1;
export const TICKET_PROBE: i32 = 2;

// Outcomes reported by targetEnd().
export const OUTCOME_OK: i32 = 0;
export const OUTCOME_ERROR: i32 = 1;
export const OUTCOME_TIMEOUT: i32 = 2;
export const OUTCOME_RATE_LIMITED: i32 = 3;
export const OUTCOME_REJECTED: i32 = 4;

// Request flags for route().
export const FLAG_REQUIRE_LOCAL: i32 = 1;
export const FLAG_ALLOW_CLOUD: i32 = 2;
export const FLAG_ALLOW_QUEUE: i32 = 4;
export const FLAG_CONTAINS_PII: i32 = 8;
export const FLAG_STREAM: i32 = 16;
export const FLAG_REQUIRE_CLOUD: i32 = 32;

// route() decisions (bits 0..7 of the packed result).
export const DECIDE_LOCAL: i32 = 0;
export const DECIDE_CLOUD: i32 = 1;
export const DECIDE_QUEUE: i32 = 2;
export const DECIDE_REJECT: i32 = 3;

// route() reasons (bits 8..15). 1..5 explain a served decision; 10..16 a queue or a reject and are
// ordered by how far the closest target got through the checks.
export const REASON_BEST_SCORE: i32 = 1;
export const REASON_ONLY_CANDIDATE: i32 = 2;
export const REASON_FORCED_LOCAL: i32 = 3;
export const REASON_FORCED_CLOUD: i32 = 4;
export const REASON_PII_LOCAL: i32 = 5;
export const REASON_NO_TARGET: i32 = 10;
export const REASON_PII_NO_LOCAL: i32 = 11;
export const REASON_NO_CAPABLE_TARGET: i32 = 12;
export const REASON_CONTEXT_TOO_LONG: i32 = 13;
export const REASON_INSUFFICIENT_MEMORY: i32 = 14;
export const REASON_CLOUD_UNREACHABLE: i32 = 15;
export const REASON_CIRCUIT_OPEN: i32 = 16;

// retryClassify()
export const CLASS_SUCCESS: i32 = 0;
export const CLASS_RETRY: i32 = 1;
export const CLASS_RATE_LIMITED: i32 = 2;
export const CLASS_PERMANENT: i32 = 3;
export const CLASS_DEAD: i32 = 4;
