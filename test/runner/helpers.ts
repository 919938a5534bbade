/**
 * Shared pieces of the runner tests: the tiny model, a silent supervisor, a way to read a generation
 * to its end, and the suite's upstream observer built from the supervisor's events.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { expect } from "vitest";
import { ProviderError } from "../../host/providers/types.js";
import type { Generation, GenerationDone } from "../../host/runner/generation.js";
import type { RunnerModelSpec, RunnerSupervisorOptions } from "../../host/runner/options.js";
import { RunnerSupervisor } from "../../host/runner/supervisor.js";
import type { UpstreamObserver } from "../providers/provider-suite.js";

export const TINY_MODEL = fileURLToPath(new URL("../../models/tiny/tiny-demo.gguf", import.meta.url));

/** The tiny model's end-of-sequence token: banning it (logit_bias -100) keeps the model talking. */
export const TINY_EOS_TOKEN = "2";

/** Sampling under which the tiny model writes on until max_tokens: long enough to abort mid-way. */
export const LONG_ANSWER = { temperature: 0.8, seed: 7, logit_bias: { [TINY_EOS_TOKEN]: -100 } } as const;

export const silentLogger = pino({ level: "silent" });

export function tinySpec(overrides: Partial<RunnerModelSpec> = {}): RunnerModelSpec {
  return {
    id: "tiny",
    path: TINY_MODEL,
    contextTokens: 512,
    sequences: 2,
    maxQueue: 2,
    threads: 1,
    memoryMb: 64,
    loadAtStart: true,
    ...overrides,
  };
}

/** A started supervisor on the tiny model (threads 1), with the real GGUF check before loads. */
export async function startRunner(options: Partial<RunnerSupervisorOptions> = {}): Promise<RunnerSupervisor> {
  const supervisor = new RunnerSupervisor({
    models: [tinySpec()],
    threads: 1,
    logger: silentLogger,
    ...options,
  });
  await supervisor.start();
  return supervisor;
}

/** Reads a generation to its end. */
export async function drain(generation: Generation): Promise<{ text: string; done: GenerationDone }> {
  let text = "";
  for (let events = await generation.read(); events.length > 0; events = await generation.read()) {
    for (const event of events) {
      if (event.type === "text") text += event.text;
      else return { text, done: event };
    }
  }
  throw new Error("generation ended without a done event");
}

/** Resolves once `predicate` holds, checking on every event-loop turn; fails after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * The provider suite's view of the runner: a generation is "open" from its start until the child
 * reports its end, "closed-early" when the child confirms it stopped on an abort.
 */
export function observeRunner(supervisor: RunnerSupervisor): UpstreamObserver {
  const outcomes = new Map<number, "open" | "completed" | "closed-early" | "dropped">();
  let last: number | undefined;
  let closedEarly = 0;
  const remove = supervisor.addListener({
    generationStart: (_model, id) => {
      outcomes.set(id, "open");
      last = id;
    },
    generationEnd: (_model, id, end) => {
      if (end.outcome === "aborted") closedEarly++;
      outcomes.set(
        id,
        end.outcome === "completed" ? "completed" : end.outcome === "aborted" ? "closed-early" : "dropped",
      );
    },
  });
  return {
    lastOutcome: () => (last === undefined ? undefined : outcomes.get(last)),
    closedEarly: () => closedEarly,
    until: (predicate) => until(predicate),
    close: remove,
  };
}

/**
 * A copy of `source` with one u32 metadata value replaced, e.g. `llama.attention.head_count` = 0:
 * a file llama.cpp aborts on (GGML_ASSERT, exit 134) instead of refusing.
 */
export function patchGgufU32(source: string, target: string, key: string, value: number): void {
  const bytes = readFileSync(source);
  const keyBytes = Buffer.from(key, "utf8");
  // The key is stored as u64 length + bytes, then a u32 type tag (4 = u32), then the value.
  const at = bytes.indexOf(keyBytes);
  if (at < 0) throw new Error(`${key} not found in ${source}`);
  const typeAt = at + keyBytes.length;
  if (bytes.readUInt32LE(typeAt) !== 4) throw new Error(`${key} is not a u32 in ${source}`);
  const patched = Buffer.from(bytes);
  patched.writeUInt32LE(value, typeAt + 4);
  writeFileSync(target, patched);
}

/** The ProviderError a call fails with; the test fails if it succeeds or throws something else. */
export async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(ProviderError);
  return outcome as ProviderError;
}
