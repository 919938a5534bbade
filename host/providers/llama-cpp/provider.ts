import type { Generation, GenerationDone, GenerationEvent } from "../../runner/generation.js";
import type { RunnerSupervisor } from "../../runner/supervisor.js";
import { openCallScope } from "../openai-compatible/call-scope.js";
import {
  type Endpoint,
  type Provider,
  type ProviderCallOptions,
  ProviderError,
  type UpstreamResponse,
} from "../types.js";
import { type ChatCall, type SamplingDefaults, toChatCall } from "./request.js";
import { type CompletionIdentity, chatCompletionJson, newIdentity, SseEncoder } from "./response.js";

export interface LlamaCppProviderOptions {
  /** Target name as the API shows it: `local/<manifest id>`. */
  name: string;
  supervisor: RunnerSupervisor;
  /** The runner's model id (the manifest id). */
  model: string;
  sampling?: SamplingDefaults;
  /** Until the first token, queue wait and loading included: the runner's "headers" time. */
  firstTokenTimeoutMs?: number;
  /** The whole call, generation included. */
  totalTimeoutMs?: number;
  /** Wall clock in ms, for the answers' `created`. */
  now?: () => number;
}

const ENDPOINTS: readonly Endpoint[] = ["chat/completions"];
const encoder = new TextEncoder();

/**
 * A Provider over the model runner: OpenAI chat bodies in, OpenAI JSON or SSE bytes out. `call`
 * resolves once the first token exists, so anything that fails before it (queue full, model refused,
 * runner down) rejects and the router can fall back; a stream's later failure ends its body.
 */
export function createLlamaCppProvider({
  name,
  supervisor,
  model,
  sampling = {},
  firstTokenTimeoutMs = 60_000,
  totalTimeoutMs = 300_000,
  now = Date.now,
}: LlamaCppProviderOptions): Provider {
  const running = new Set<Generation>();

  async function call(
    endpoint: Endpoint,
    body: Readonly<Record<string, unknown>>,
    { signal }: ProviderCallOptions,
  ): Promise<UpstreamResponse> {
    if (endpoint !== "chat/completions") {
      // The router never sends an endpoint a target does not list; reaching here is a gateway bug.
      throw new Error(`${name}: endpoint ${endpoint} is not served by this provider`);
    }
    if (signal.aborted) throw new ProviderError("aborted", `${name}: call aborted before it started`);
    const chat = toChatCall(body, sampling);

    const scope = openCallScope(signal, totalTimeoutMs);
    const firstToken = new AbortController();
    const firstTimer = setTimeout(() => firstToken.abort(), firstTokenTimeoutMs);
    const mapError = (error: unknown): ProviderError => {
      if (scope.abortedBy === "caller")
        return new ProviderError("aborted", `${name}: call aborted by the caller`);
      if (scope.abortedBy === "deadline") {
        return new ProviderError("timeout", `${name}: no complete answer within ${totalTimeoutMs} ms`);
      }
      if (firstToken.signal.aborted) {
        return new ProviderError("timeout", `${name}: no first token within ${firstTokenTimeoutMs} ms`);
      }
      if (error instanceof ProviderError) return error;
      return new ProviderError(
        "protocol",
        `${name}: ${error instanceof Error ? error.message : String(error)}`,
      );
    };

    let generation: Generation | undefined;
    let first: GenerationEvent[];
    try {
      generation = await supervisor.generate(
        model,
        chat.request,
        AbortSignal.any([scope.signal, firstToken.signal]),
      );
      first = await generation.read();
    } catch (error) {
      scope.dispose();
      throw mapError(error);
    } finally {
      clearTimeout(firstTimer);
    }
    running.add(generation);
    const gen = generation;
    const end = () => {
      running.delete(gen);
      scope.dispose();
    };
    const identity = newIdentity(chat.model ?? model, now());
    if (!chat.stream) return jsonAnswer(gen, first, identity, mapError, end);
    return {
      status: 200,
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
      body: sseBody(gen, first, identity, chat, mapError, end),
    };
  }

  async function probe(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new ProviderError("aborted", `${name}: probe aborted before it started`);
    const state = supervisor.state();
    if (!state.ready) throw new ProviderError("connect", `${name}: the model runner is ${state.status}`);
  }

  async function close(): Promise<void> {
    // The supervisor is shared by every local model; its owner stops it. Calls of this provider end.
    for (const generation of running) generation.cancel();
    running.clear();
  }

  return { name, kind: "local", endpoints: ENDPOINTS, call, probe, close };
}

/** A non-streaming answer: the whole generation, then one JSON body. */
async function jsonAnswer(
  generation: Generation,
  first: GenerationEvent[],
  identity: CompletionIdentity,
  mapError: (error: unknown) => ProviderError,
  end: () => void,
): Promise<UpstreamResponse> {
  let content = "";
  let done: GenerationDone | undefined;
  try {
    for (let events = first; events.length > 0 && !done; events = await generation.read()) {
      for (const event of events) {
        if (event.type === "text") content += event.text;
        else done = event;
      }
    }
  } catch (error) {
    throw mapError(error);
  } finally {
    end();
  }
  if (!done) throw mapError(new Error("the runner ended the generation without a result"));
  const bytes = encoder.encode(chatCompletionJson(identity, content, done));
  return {
    status: 200,
    headers: { "content-type": "application/json" },
    body: {
      async *[Symbol.asyncIterator]() {
        yield bytes;
      },
    },
  };
}

/**
 * The SSE body: the role chunk travels with the first token, every later read sends whatever the
 * runner produced meanwhile in one write. Stopping early cancels the generation in the child.
 */
function sseBody(
  generation: Generation,
  first: GenerationEvent[],
  identity: CompletionIdentity,
  chat: ChatCall,
  mapError: (error: unknown) => ProviderError,
  end: () => void,
): AsyncIterable<Uint8Array> {
  const sse = new SseEncoder(identity, chat.includeUsage);
  const encode = (events: GenerationEvent[]): string => {
    let text = "";
    for (const event of events) {
      if (event.type === "done") text += sse.end(event);
      else if (event.text !== "") text += sse.content(event.text);
    }
    return text;
  };
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      let pending: GenerationEvent[] | undefined = first;
      let finished = false;
      return {
        async next() {
          if (finished) return { done: true, value: undefined };
          try {
            let text = "";
            while (text === "") {
              const events: GenerationEvent[] = pending ?? (await generation.read());
              const isFirst = pending === first;
              pending = undefined;
              if (events.length === 0) {
                finished = true;
                end();
                return { done: true, value: undefined };
              }
              text = (isFirst ? sse.role() : "") + encode(events);
            }
            return { done: false, value: encoder.encode(text) };
          } catch (error) {
            finished = true;
            end();
            throw mapError(error);
          }
        },
        async return() {
          if (!finished) {
            finished = true;
            generation.cancel();
            end();
          }
          return { done: true, value: undefined };
        },
      };
    },
  };
}
