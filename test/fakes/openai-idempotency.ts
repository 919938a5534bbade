/**
 * The fake cloud's receiving end of `Idempotency-Key` (option `dedupe`), modelled on the gateway's
 * own (host/openai/offline.ts `replay`/`remember`): the first POST /v1/chat/completions with a key is
 * executed and its answer kept; a repeat with that key gets the kept answer back, byte for byte,
 * without executing again.
 *
 * Execution happens when the request arrives, before any `firstByteDelayMs`: the answer is kept
 * before it is sent, as the gateway keeps it before writing the body. So a delivery cut off while its
 * answer is on the way has executed, and its re-send must be a replay. Not executed: a request the
 * fake answers with injected misbehaviour (`status`, `hang`), one it refuses (wrong key, no
 * messages), and a stream (the offline queue never sends one).
 */
import type { Behaviour, RecordedRequest } from "./openai-upstream.js";
import { chatCompletion, countWords, promptWords, usageFor } from "./openai-wire.js";

/** What the ledger decided for one request: the answer to send, and whether it is a replay. */
export interface Admitted {
  key: string;
  /** The kept answer's JSON text. */
  text: string;
  replayed: boolean;
}

interface AnswerSettings {
  reply: string;
  models: readonly string[];
  apiKey: string | undefined;
}

const CHAT_PATH = "/v1/chat/completions";

/** Per-key records of one fake cloud; pass it to the next fake on the same port to keep them. */
export class IdempotencyLedger {
  private readonly executed = new Map<string, number>();
  private readonly seen = new Map<string, number>();
  private readonly kept = new Map<string, string>();

  /** Times each key's request was executed (1 for every key that was). */
  get executions(): ReadonlyMap<string, number> {
    return this.executed;
  }

  /** Requests received per key, whatever they were answered with: more than one is a re-send. */
  get received(): ReadonlyMap<string, number> {
    return this.seen;
  }

  /** The kept answer (JSON text) per executed key. */
  get answers(): ReadonlyMap<string, string> {
    return this.kept;
  }

  /**
   * Counts a keyed chat request and, if the fake will answer it normally, executes it or finds the
   * kept answer. `id` numbers the completion (`chatcmpl-fake-<id>`), as the fake does for all.
   */
  admit(
    record: RecordedRequest,
    behaviour: Behaviour,
    settings: AnswerSettings,
    id: string,
  ): Admitted | undefined {
    const key = record.headers["idempotency-key"];
    if (record.method !== "POST" || record.path.split("?")[0] !== CHAT_PATH) return undefined;
    if (typeof key !== "string" || key === "") return undefined;
    this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
    if (behaviour.hang || behaviour.status !== undefined) return undefined;
    if (settings.apiKey !== undefined && record.headers.authorization !== `Bearer ${settings.apiKey}`)
      return undefined;
    const body = (typeof record.body === "object" && record.body !== null ? record.body : {}) as Record<
      string,
      unknown
    >;
    if (!Array.isArray(body.messages) || body.stream === true) return undefined;
    const kept = this.kept.get(key);
    if (kept !== undefined) return { key, text: kept, replayed: true };
    const model = typeof body.model === "string" ? body.model : (settings.models[0] ?? "fake-model");
    const reply = behaviour.reply ?? settings.reply;
    const usage = usageFor(promptWords(body), countWords(reply));
    const text = JSON.stringify(chatCompletion(`chatcmpl-fake-${id}`, model, reply, usage));
    this.executed.set(key, (this.executed.get(key) ?? 0) + 1);
    this.kept.set(key, text);
    return { key, text, replayed: false };
  }

  clear(): void {
    this.executed.clear();
    this.seen.clear();
    this.kept.clear();
  }
}
