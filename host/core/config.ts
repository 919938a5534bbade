import { z } from "zod";

/** Most tiers the core holds; tier names map to indices 0..MAX_TIERS-1 in declaration order. */
export const MAX_TIERS = 8;
/** Most targets (local models plus cloud endpoints) the router scores. */
export const MAX_TARGETS = 32;

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();

export const tierSchema = z
  .object({
    /** Sustained request rate; 0 means no request limit. */
    requestsPerMinute: nonNegative.default(60),
    /** Bucket size: requests allowed back to back after a quiet spell. Defaults to requestsPerMinute. */
    requestBurst: positive.optional(),
    /** Sustained LLM token rate (prompt plus completion); 0 means no token limit. */
    tokensPerMinute: nonNegative.default(100_000),
    /** Token bucket size. Defaults to tokensPerMinute. */
    tokenBurst: positive.optional(),
  })
  .strict();

export const coreConfigSchema = z
  .object({
    limiter: z
      .object({
        /** Distinct clients tracked at once; the table is preallocated for this many. */
        capacity: z.number().int().min(1).max(4_000_000).default(10_000),
        /** A client unseen this long (and refilled) may be evicted to make room. */
        idleMs: positive.default(10 * 60_000),
        tiers: z
          .record(z.string().min(1), tierSchema)
          .default({ default: tierSchema.parse({}) })
          .refine((t) => Object.keys(t).length >= 1 && Object.keys(t).length <= MAX_TIERS, {
            message: `between 1 and ${MAX_TIERS} tiers`,
          }),
      })
      .strict()
      .prefault({}),
    health: z
      .object({
        /** Weight of a new latency sample in the moving average (0..1]. */
        latencyAlpha: z.number().gt(0).max(1).default(0.2),
        /** Errors and successes lose half their weight over this period. */
        errorHalfLifeMs: positive.default(30_000),
        /** Virtual healthy samples: keeps one error from reading as a 100% error rate. */
        errorPrior: nonNegative.default(2),
        /** Consecutive failures that open the circuit. */
        failureThreshold: z.number().int().min(1).default(5),
        /** Decayed error rate at or above which the circuit opens (with minVolume samples). */
        openErrorRate: z.number().gt(0).max(1).default(0.5),
        /** Decayed sample weight needed before openErrorRate applies. */
        minVolume: nonNegative.default(10),
        /** First open period; doubles on each failed probe up to maxOpenMs. */
        openMs: positive.default(5_000),
        maxOpenMs: positive.default(60_000),
        /** Probes let through at once while half-open. */
        halfOpenProbes: z.number().int().min(1).max(64).default(1),
      })
      .strict()
      .prefault({}),
    router: z
      .object({
        /** Latency assumed for a target with no samples yet. */
        defaultLatencyMs: nonNegative.default(1_000),
        /** Score added per unit of decayed error rate. */
        errorPenaltyMs: nonNegative.default(10_000),
        /** Bias toward local targets: added to every cloud target's score, divided by (1 + priority). */
        cloudPenaltyMs: nonNegative.default(2_000),
        /** Added to a local model that is not loaded yet. */
        loadPenaltyMs: nonNegative.default(3_000),
        /** Added when the task class is not one the target is marked good for. */
        mismatchPenaltyMs: nonNegative.default(1_500),
        /** Added when the target is at its in-flight maximum. */
        saturatedPenaltyMs: nonNegative.default(5_000),
      })
      .strict()
      .prefault({}),
    retry: z
      .object({
        baseMs: positive.default(1_000),
        capMs: positive.default(5 * 60_000),
        /** Attempts before an item is dead-lettered. */
        maxAttempts: z.number().int().min(1).max(1_000).default(8),
      })
      .strict()
      .prefault({}),
    /** Seed for retry jitter; a random one is drawn at start when absent. */
    seed: z.number().int().min(0).max(0xffff_ffff).optional(),
  })
  .strict();

export type CoreConfig = z.infer<typeof coreConfigSchema>;
export type TierConfig = z.infer<typeof tierSchema>;
