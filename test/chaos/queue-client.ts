// A client of the offline queue for chaos tests: fires `Prefer: respond-async` chat requests with
// bounded concurrency and sorts each into acknowledged (202 with an id) or not, then long-polls
// items until they finish. Every loop is bounded in count and in time.

export interface ItemView {
  id: string;
  status: string;
  attempts: number;
  result: { status: number; body: unknown } | null;
}

/** What became of each request, by its index. */
export interface Sent {
  /** 202 with an id: the gateway promised delivery. */
  acked: Map<number, string>;
  /** No complete answer: the connection broke (a kill). Not acknowledged, perhaps committed. */
  cut: Map<number, string>;
  /** Any other HTTP answer. */
  refused: Map<number, number>;
}

export const newSent = (): Sent => ({ acked: new Map(), cut: new Map(), refused: new Map() });

/** The message request `i` carries, so a queue row or a cloud request names its request. */
export const contentOf = (i: number): string => `chaos request number ${i}`;

export const indexOf = (content: string): number =>
  Number(/^chaos request number (\d+)$/.exec(content)?.[1] ?? -1);

export interface SendOptions {
  url: string;
  key: string;
  indices: readonly number[];
  inFlight: number;
  sent: Sent;
  /** Checked before each new request: once true, nothing more is sent. */
  stop?: () => boolean;
  /** Called after each acknowledgement, e.g. to kill the gateway at a count. */
  onAck?: () => void;
  /** The request's `Idempotency-Key`, if it carries one (so a re-send finds the same item). */
  keyOf?: (i: number) => string | undefined;
}

/** Sends until done or stopped; resolves with the indices never sent. */
export async function sendQueued(o: SendOptions): Promise<number[]> {
  let next = 0;
  const one = async (i: number): Promise<void> => {
    const key = o.keyOf?.(i);
    try {
      const res = await fetch(`${o.url}/v1/chat/completions`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${o.key}`,
          "content-type": "application/json",
          prefer: "respond-async",
          ...(key === undefined ? {} : { "idempotency-key": key }),
        },
        body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: contentOf(i) }] }),
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await res.json()) as { id?: string };
      if (res.status === 202 && typeof body.id === "string") {
        o.sent.acked.set(i, body.id);
        o.onAck?.();
      } else o.sent.refused.set(i, res.status);
    } catch (error) {
      o.sent.cut.set(i, String((error as Error).cause ?? error));
    }
  };
  const lane = async (): Promise<void> => {
    while (next < o.indices.length && !o.stop?.()) await one(o.indices[next++] as number);
  };
  await Promise.all(Array.from({ length: o.inFlight }, lane));
  return o.indices.slice(next);
}

const FINISHED = new Set(["done", "failed", "dead", "cancelled"]);

/** Long-polls every id until it finishes; rejects if one has not by `deadlineMs` (wall clock). */
export async function waitFinished(
  url: string,
  key: string,
  ids: readonly string[],
  deadlineMs: number,
  inFlight = 20,
): Promise<Map<string, ItemView>> {
  const views = new Map<string, ItemView>();
  let next = 0;
  const poll = async (id: string): Promise<void> => {
    // Each round waits at most 5 s on the server, so the deadline bounds the rounds.
    while (Date.now() < deadlineMs) {
      const waitS = Math.max(1, Math.min(5, Math.floor((deadlineMs - Date.now()) / 1000)));
      const res = await fetch(`${url}/v1/queue/${id}?wait=${waitS}`, {
        headers: { authorization: `Bearer ${key}` },
        signal: AbortSignal.timeout((waitS + 5) * 1000),
      });
      const view = (await res.json()) as ItemView;
      if (res.status !== 200) throw new Error(`GET /v1/queue/${id}: ${res.status} ${JSON.stringify(view)}`);
      if (FINISHED.has(view.status)) {
        views.set(id, view);
        return;
      }
    }
    throw new Error(`item ${id} did not finish in time`);
  };
  const lane = async (): Promise<void> => {
    while (next < ids.length) await poll(ids[next++] as string);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return views;
}
