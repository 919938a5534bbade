import { z } from "zod";

export const modelsConfigSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        "Serve the manifests in `models.dir` with the built-in runner. Off: only HTTP targets and the cloud.",
      ),
    dir: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Directory of model manifests (`*.yaml`, fields in models/README.md). Unset: the package's models/ with the tiny demo model.",
      ),
    loadAtStart: z
      .union([z.enum(["all", "none"]), z.array(z.string().min(1))])
      .default("all")
      .describe(
        "Models loaded at start: `all` (as many as fit the memory budget), `none` (each on first use) or a list of model ids.",
      ),
    threads: z
      .number()
      .int()
      .min(1)
      .max(256)
      .optional()
      .describe(
        "Threads for every model, overriding the manifests. Unset: each manifest's own, by default min(4, cores); never llama.cpp's default.",
      ),
    memoryBudgetMb: z
      .number()
      .positive()
      .optional()
      .describe(
        "Memory the runner may fill with models; least recently used idle models are unloaded beyond it. Unset: 75% of the device's memory.",
      ),
    gpu: z
      .union([z.literal(false), z.literal("auto")])
      .default(false)
      .describe(
        "`false`: CPU only. `auto`: the best GPU the prebuilt binaries find (a Jetson needs an on-device CUDA build).",
      ),
    queuePerModel: z
      .number()
      .int()
      .min(0)
      .max(1_000)
      .default(4)
      .describe(
        "Requests that may wait for a model beyond its sequences; more are turned away and the router moves on.",
      ),
    firstTokenTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(60_000)
      .describe("Until the first token, queue wait and loading included."),
    totalTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(300_000)
      .describe("Until the whole answer is generated."),
  })
  .strict()
  .describe("The built-in model runner: node-llama-cpp in a supervised child process.");

export type ModelsConfig = z.infer<typeof modelsConfigSchema>;
