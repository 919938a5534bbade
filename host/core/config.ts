import { z } from "zod";

/** Most tiers the core holds; tier names map to indices 0..MAX_TIERS-1 in declaration order. */
export const MAX_TIERS = 8;
/** Most targets (local models plus cloud endpoints) the router scores. */
export const MAX_TARGETS = 32;

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();

export const tierSchema = z
  .object({
    requestsPerMinute: nonNegative.default(60).describe("Sustained request rate; 0: no request limit."),
    requestBurst: positive
      .optional()
      .describe("Bucket size: requests allowed back to back after a quiet spell. Unset: requestsPerMinute."),
    tokensPerMinute: nonNegative
      .default(100_000)
      .describe("Sustained LLM token rate (prompt plus completion); 0: no token limit."),
    tokenBurst: positive.optional().describe("Token bucket size. Unset: tokensPerMinute."),
  })
  .strict();

export const coreConfigSchema = z
  .object({
    limiter: z
      .object({
        capacity: z
          .number()
          .int()
          .min(1)
          .max(4_000_000)
          .default(10_000)
          .describe(
            "Distinct clients tracked at once; the table is preallocated for this many, at most about 110 bytes each.",
          ),
        idleMs: positive
          .default(10 * 60_000)
          .describe(
            "A client unseen this long (and refilled) may be evicted to make room; raised to the longest time a tier's buckets take to refill.",
          ),
        tiers: z
          .record(z.string().min(1), tierSchema)
          .default({ default: tierSchema.parse({}) })
          .refine((t) => Object.keys(t).length >= 1 && Object.keys(t).length <= MAX_TIERS, {
            message: `between 1 and ${MAX_TIERS} tiers`,
          })
          .describe(
            `Rate-limit tiers by name, 1 to ${MAX_TIERS}, numbered in the order written; the first serves clients without an API key, and keys name theirs in \`auth.keys[].tier\`.`,
          ),
      })
      .strict()
      .prefault({}),
    health: z
      .object({
        latencyAlpha: z
          .number()
          .gt(0)
          .max(1)
          .default(0.2)
          .describe("Weight of a new latency sample in the moving average."),
        errorHalfLifeMs: positive
          .default(30_000)
          .describe("Errors and successes lose half their weight over this period."),
        errorPrior: nonNegative
          .default(2)
          .describe("Virtual healthy samples: keeps one error from reading as a 100% error rate."),
        failureThreshold: z
          .number()
          .int()
          .min(1)
          .default(5)
          .describe("Consecutive failures that open a target's circuit."),
        openErrorRate: z
          .number()
          .gt(0)
          .max(1)
          .default(0.5)
          .describe("Decayed error rate at or above which the circuit opens (with minVolume samples)."),
        minVolume: nonNegative
          .default(10)
          .describe("Decayed sample weight needed before openErrorRate applies."),
        openMs: positive
          .default(5_000)
          .describe("First open period; doubles on each failed probe up to maxOpenMs."),
        maxOpenMs: positive.default(60_000).describe("Longest open period."),
        halfOpenProbes: z
          .number()
          .int()
          .min(1)
          .max(64)
          .default(1)
          .describe("Requests let through at once while half-open."),
      })
      .strict()
      .prefault({}),
    router: z
      .object({
        defaultLatencyMs: nonNegative
          .default(1_000)
          .describe("Latency assumed for a target with no samples yet."),
        errorPenaltyMs: nonNegative.default(10_000).describe("Score added per unit of decayed error rate."),
        cloudPenaltyMs: nonNegative
          .default(2_000)
          .describe(
            "Bias toward local targets: added to every cloud target's score, divided by (1 + priority).",
          ),
        loadPenaltyMs: nonNegative.default(3_000).describe("Added to a local model that is not loaded yet."),
        mismatchPenaltyMs: nonNegative
          .default(1_500)
          .describe("Added when the task class is not one the target is marked good for."),
        saturatedPenaltyMs: nonNegative
          .default(5_000)
          .describe("Added when the target is at its in-flight maximum."),
      })
      .strict()
      .prefault({}),
    retry: z
      .object({
        baseMs: positive
          .default(1_000)
          .describe(
            "Backoff base: attempt n waits a uniformly random time below min(capMs, baseMs · 2^(n-1)).",
          ),
        capMs: positive
          .default(5 * 60_000)
          .describe("Backoff cap; an upstream's Retry-After may still ask for longer."),
        maxAttempts: z
          .number()
          .int()
          .min(1)
          .max(1_000)
          .default(8)
          .describe("Attempts before an item is dead-lettered."),
      })
      .strict()
      .prefault({}),
    seed: z
      .number()
      .int()
      .min(0)
      .max(0xffff_ffff)
      .optional()
      .describe("Seed for retry jitter, to make delays reproducible. Unset: a random one drawn at start."),
  })
  .strict()
  .describe(
    "The policy core: rate limits, target health, routing scores and retry backoff. How each decision is made is in assembly/README.md.",
  );

export type CoreConfig = z.infer<typeof coreConfigSchema>;
export type TierConfig = z.infer<typeof tierSchema>;
