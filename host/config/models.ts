import { z } from "zod";

/** The built-in model runner (node-llama-cpp in a supervised child process). */
export const modelsConfigSchema = z
  .object({
    /** Serve the manifests in `dir` with the runner. Off: only HTTP targets and the cloud. */
    enabled: z.boolean().default(true),
    /** Directory of model manifests (*.yaml); default the package's models/ with the tiny demo model. */
    dir: z.string().min(1).optional(),
    /** Load every model at start (as many as fit the budget), none until first use, or these ids. */
    loadAtStart: z.union([z.enum(["all", "none"]), z.array(z.string().min(1))]).default("all"),
    /** Threads for every model, overriding the manifests (always explicit: never llama.cpp's default). */
    threads: z.number().int().min(1).max(256).optional(),
    /** Memory the runner may fill with models; least recently used ones are unloaded beyond it. */
    memoryBudgetMb: z.number().positive().optional(),
    /** CPU only, or the best GPU the prebuilt binaries find (a Jetson needs an on-device CUDA build). */
    gpu: z.union([z.literal(false), z.literal("auto")]).default(false),
    /** Requests that may wait for a model beyond its sequences; more are turned away (the router moves on). */
    queuePerModel: z.number().int().min(0).max(1_000).default(4),
    /** Until the first token, queue wait and loading included. */
    firstTokenTimeoutMs: z.number().int().positive().default(60_000),
    totalTimeoutMs: z.number().int().positive().default(300_000),
  })
  .strict();

export type ModelsConfig = z.infer<typeof modelsConfigSchema>;
