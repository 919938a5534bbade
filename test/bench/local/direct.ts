/**
 * The baseline: node-llama-cpp called directly in the bench process, the way an application without
 * a gateway would, with the same model, thread count, context and sampling as the runner.
 */
import { performance } from "node:perf_hooks";
import { getLlama, LlamaChat, LlamaLogLevel, TokenBias } from "node-llama-cpp";
import { figures, type RunFigures } from "./measure.js";

export interface DirectSide {
  eosToken: number;
  run(prompt: string, tokens: number, seed: number): Promise<RunFigures>;
  close(): Promise<void>;
}

export async function openDirect(
  modelPath: string,
  threads: number,
  contextTokens: number,
): Promise<DirectSide> {
  const llama = await getLlama({
    gpu: false,
    build: "never",
    skipDownload: true,
    maxThreads: threads,
    logLevel: LlamaLogLevel.error,
  });
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  const context = await model.createContext({
    sequences: 1,
    contextSize: contextTokens,
    threads,
    failedCreationRemedy: false,
  });
  const chat = new LlamaChat({ contextSequence: context.getSequence() });
  const eosToken = model.tokens.eos;
  if (eosToken === null) throw new Error(`${modelPath} names no end-of-sequence token`);
  const bias = new TokenBias(model.tokenizer).set(eosToken, "never");

  return {
    eosToken,
    async run(prompt, tokens, seed) {
      const before = chat.sequence.tokenMeter.getState();
      let firstMs: number | undefined;
      let lastMs = 0;
      const startMs = performance.now();
      await chat.generateResponse(
        [
          { type: "user", text: prompt },
          { type: "model", response: [] },
        ],
        {
          maxTokens: tokens,
          temperature: 0.8,
          seed,
          tokenBias: bias,
          onTextChunk: () => {
            lastMs = performance.now();
            firstMs ??= lastMs;
          },
        },
      );
      const generated = chat.sequence.tokenMeter.diff(before).usedOutputTokens;
      if (firstMs === undefined) throw new Error("direct: no text generated");
      return figures(startMs, firstMs, lastMs, generated);
    },
    async close() {
      await llama.dispose();
    },
  };
}
