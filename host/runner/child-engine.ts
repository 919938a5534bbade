/**
 * The runner child's model work: loads and unloads models, and runs one generation per context
 * sequence. Child side only: this file imports node-llama-cpp, which the gateway process never does.
 */
import { performance } from "node:perf_hooks";
import {
  type ChatHistoryItem,
  type ChatWrapper,
  JinjaTemplateChatWrapper,
  type Llama,
  LlamaChat,
  type LlamaContext,
  type LlamaModel,
  resolveChatWrapper,
  specializedChatWrapperTypeNames,
} from "node-llama-cpp";
import { GrammarCache, InvalidRequestError, toChatHistory, toTokenBias } from "./child-sampling.js";
import { TextBatcher } from "./child-text-batcher.js";
import type { ChildMessage, FinishReason, GenerateRequest, LoadSpec, RunnerStats } from "./protocol.js";

interface LoadedModel {
  spec: LoadSpec;
  model: LlamaModel;
  context: LlamaContext;
  /** One chat per sequence; a generation takes one and gives it back. */
  freeChats: LlamaChat[];
}

type Send = (message: ChildMessage) => void;

export class ChildEngine {
  private readonly models = new Map<string, LoadedModel>();
  private readonly aborts = new Map<number, AbortController>();
  private readonly grammars: GrammarCache;

  constructor(
    private readonly llama: Llama,
    private readonly send: Send,
  ) {
    this.grammars = new GrammarCache(llama);
  }

  async load(id: number, spec: LoadSpec): Promise<void> {
    const startedMs = performance.now();
    try {
      const existing = this.models.get(spec.modelId);
      if (existing) await this.dispose(existing);
      const model = await this.llama.loadModel({ modelPath: spec.path, gpuLayers: spec.gpuLayers ?? 0 });
      let context: LlamaContext;
      try {
        context = await model.createContext({
          sequences: spec.sequences,
          contextSize: spec.contextTokens,
          // Explicit: node-llama-cpp's default on a small shared box slowed generation a hundredfold.
          threads: spec.threads,
          batchSize: spec.batchSize,
          failedCreationRemedy: false,
        });
      } catch (error) {
        await model.dispose();
        throw error;
      }
      const chatWrapper = chatWrapperFor(model, spec.chatTemplate);
      const freeChats: LlamaChat[] = [];
      for (let i = 0; i < spec.sequences; i++) {
        freeChats.push(new LlamaChat({ contextSequence: context.getSequence(), chatWrapper }));
      }
      this.models.set(spec.modelId, { spec, model, context, freeChats });
      this.send({
        type: "loaded",
        id,
        modelId: spec.modelId,
        loadMs: performance.now() - startedMs,
        contextTokens: context.contextSize,
      });
    } catch (error) {
      this.send({ type: "error", id, code: "load_failed", message: messageOf(error) });
    }
  }

  async unload(id: number, modelId: string): Promise<void> {
    const loaded = this.models.get(modelId);
    if (loaded) await this.dispose(loaded);
    this.send({ type: "unloaded", id, modelId });
  }

  abort(id: number): void {
    this.aborts.get(id)?.abort();
  }

  stats(): RunnerStats {
    const memory = process.memoryUsage();
    return {
      pid: process.pid,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      models: [...this.models.values()].map((m) => ({
        modelId: m.spec.modelId,
        contextTokens: m.context.contextSize,
        sequencesFree: m.freeChats.length,
      })),
    };
  }

  async generate(id: number, modelId: string, request: GenerateRequest): Promise<void> {
    const startedMs = performance.now();
    const loaded = this.models.get(modelId);
    if (!loaded) {
      this.send({ type: "error", id, code: "not_loaded", message: `model ${modelId} is not loaded` });
      return;
    }
    const chat = loaded.freeChats.pop();
    if (!chat) {
      // The supervisor admits at most `sequences` generations per model; this is its bug, not load.
      this.send({ type: "error", id, code: "busy", message: `model ${modelId} has no free sequence` });
      return;
    }
    const controller = new AbortController();
    this.aborts.set(id, controller);
    const meterBefore = chat.sequence.tokenMeter.getState();
    // Sampled tokens, held-back ones (a partial UTF-8 character, a possible stop sequence) included.
    const generatedTokens = () => chat.sequence.tokenMeter.diff(meterBefore).usedOutputTokens;
    const batcher = new TextBatcher((text, tokens) => this.send({ type: "text", id, text, tokens }));
    let firstTokenMs: number | undefined;
    try {
      const history = toChatHistory(request.messages);
      const promptTokens = countPromptTokens(chat, history);
      const room = chat.sequence.contextSize - promptTokens;
      if (room <= 0) {
        this.send({
          type: "error",
          id,
          code: "context_length_exceeded",
          message: `the prompt is ${promptTokens} tokens; model ${modelId} has a context of ${chat.sequence.contextSize}`,
        });
        return;
      }
      const grammar = await this.grammars.get(request.format);
      const response = await chat.generateResponse(history, {
        signal: controller.signal,
        stopOnAbortSignal: true,
        // Capped by the room left so the context never shifts: a shifted prompt is a different prompt.
        maxTokens: Math.min(request.maxTokens ?? room, room),
        temperature: request.temperature,
        topP: request.topP,
        topK: request.topK,
        seed: request.seed,
        grammar,
        customStopTriggers: request.stop,
        tokenBias: toTokenBias(loaded.model, request.logitBias),
        onToken: (tokens) => batcher.addTokens(tokens.length),
        onTextChunk: (text) => {
          firstTokenMs ??= performance.now() - startedMs;
          batcher.addText(text);
        },
      });
      batcher.flush();
      this.done(id, finishReasonOf(controller.signal, response.metadata.stopReason), {
        promptTokens,
        completionTokens: generatedTokens(),
        firstTokenMs: firstTokenMs ?? performance.now() - startedMs,
        totalMs: performance.now() - startedMs,
      });
    } catch (error) {
      batcher.flush();
      if (controller.signal.aborted) {
        this.done(id, "abort", {
          promptTokens: 0,
          completionTokens: generatedTokens(),
          firstTokenMs: firstTokenMs ?? 0,
          totalMs: performance.now() - startedMs,
        });
      } else {
        const code = error instanceof InvalidRequestError ? "invalid_request" : "internal";
        this.send({ type: "error", id, code, message: messageOf(error) });
      }
    } finally {
      this.aborts.delete(id);
      loaded.freeChats.push(chat);
    }
  }

  private done(
    id: number,
    finishReason: FinishReason,
    figures: { promptTokens: number; completionTokens: number; firstTokenMs: number; totalMs: number },
  ): void {
    this.send({ type: "done", id, finishReason, ...figures });
  }

  private async dispose(loaded: LoadedModel): Promise<void> {
    this.models.delete(loaded.spec.modelId);
    // Disposing the model disposes its contexts; llama.cpp then returns the memory to the system.
    await loaded.model.dispose();
  }
}

/** The manifest's chat template: a wrapper by name, a Jinja template, or what the file says ("auto"). */
function chatWrapperFor(model: LlamaModel, template: string | undefined): ChatWrapper | "auto" {
  if (template === undefined) return "auto";
  const name = specializedChatWrapperTypeNames.find((n) => n === template);
  if (name !== undefined) return resolveChatWrapper(model, { type: name });
  return new JinjaTemplateChatWrapper({ template });
}

/** The rendered prompt's length, as the model will see it: what OpenAI reports as prompt_tokens. */
function countPromptTokens(chat: LlamaChat, history: ChatHistoryItem[]): number {
  const { contextText } = chat.chatWrapper.generateContextState({ chatHistory: history });
  return contextText.tokenize(chat.model.tokenizer).length;
}

function finishReasonOf(signal: AbortSignal, stopReason: string): FinishReason {
  if (signal.aborted) return "abort";
  return stopReason === "maxTokens" ? "length" : "stop";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
