/**
 * A lean OpenAI-compatible upstream for load tests. Unlike test/fakes/openai-upstream.ts it records
 * nothing and has no misbehaviours: every answer is a fixed, precomputed body, so under load it
 * spends its time in node:http and not in bookkeeping, and a benchmark measures the gateway.
 *
 *   POST /v1/chat/completions   a `chat.completion` with usage; with `stream: true` SSE chunks
 *                               (role, one per word, finish, usage when asked) and `data: [DONE]`
 *   GET  /v1/models             one model
 *
 * Run it as its own process so load generator, gateway and upstream do not share an event loop:
 *
 *   node --import tsx test/bench/mock-upstream.ts --port 0
 *   {"msg":"listening","url":"http://127.0.0.1:40123/v1"}
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

export const MOCK_MODEL = "mock-model";
const REPLY_WORDS = ["Hello", " from", " the", " mock", " upstream."];
const CREATED_S = 1_700_000_000;
const PROMPT_TOKENS = 12;
const USAGE = { prompt_tokens: PROMPT_TOKENS, completion_tokens: 5, total_tokens: PROMPT_TOKENS + 5 };
/** Bodies are cached per model name; a client cycling through names cannot grow the cache past this. */
const MAX_CACHED_MODELS = 64;

interface Answers {
  json: Buffer;
  events: Buffer[];
  usageEvent: Buffer;
}

function buildAnswers(model: string): Answers {
  const id = "chatcmpl-mock";
  const base = (object: string) => ({ id, object, created: CREATED_S, model, system_fingerprint: "fp_mock" });
  const json = {
    ...base("chat.completion"),
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: REPLY_WORDS.join(""), refusal: null },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: USAGE,
  };
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    ...base("chat.completion.chunk"),
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  });
  const chunks = [
    chunk({ role: "assistant", content: "", refusal: null }),
    ...REPLY_WORDS.map((word) => chunk({ content: word })),
    chunk({}, "stop"),
  ];
  const event = (value: unknown) => Buffer.from(`data: ${JSON.stringify(value)}\n\n`);
  return {
    json: Buffer.from(JSON.stringify(json)),
    events: chunks.map(event),
    usageEvent: event({ ...base("chat.completion.chunk"), choices: [], usage: USAGE }),
  };
}

const DONE = Buffer.from("data: [DONE]\n\n");
const MODELS = Buffer.from(
  JSON.stringify({
    object: "list",
    data: [{ id: MOCK_MODEL, object: "model", created: CREATED_S, owned_by: "mock" }],
  }),
);
const NOT_FOUND = Buffer.from(
  JSON.stringify({ error: { message: "Unknown path.", type: "invalid_request_error", code: "not_found" } }),
);
const BAD_REQUEST = Buffer.from(
  JSON.stringify({ error: { message: "Body must be JSON.", type: "invalid_request_error", code: null } }),
);

function sendJson(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": body.length });
  res.end(body);
}

interface ChatRequest {
  model?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
}

function createHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  const answers = new Map<string, Answers>();
  const answersFor = (model: string): Answers => {
    let found = answers.get(model);
    if (found === undefined) {
      found = buildAnswers(model);
      if (answers.size < MAX_CACHED_MODELS) answers.set(model, found);
    }
    return found;
  };

  function chat(res: ServerResponse, text: string): void {
    let body: ChatRequest;
    try {
      body = JSON.parse(text) as ChatRequest;
    } catch {
      sendJson(res, 400, BAD_REQUEST);
      return;
    }
    const model = typeof body.model === "string" ? body.model : MOCK_MODEL;
    const { json, events, usageEvent } = answersFor(model);
    if (body.stream !== true) {
      sendJson(res, 200, json);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    // The first event goes out with the headers, as a model server flushes its first token.
    for (const event of events) res.write(event);
    if (body.stream_options?.include_usage === true) res.write(usageEvent);
    res.end(DONE);
  }

  return function handleMockRequest(req, res) {
    const path = req.url ?? "";
    if (req.method === "GET" && path === "/v1/models") return sendJson(res, 200, MODELS);
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      req.resume();
      return sendJson(res, 404, NOT_FOUND);
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () =>
      chat(res, chunks.length === 1 ? (chunks[0] as Buffer).toString() : Buffer.concat(chunks).toString()),
    );
  };
}

export interface MockUpstream {
  /** Base URL ending in /v1, as GATEWAY_CLOUD_URL wants it. */
  url: string;
  close(): Promise<void>;
}

/** Starts the mock on 127.0.0.1; port 0 (the default) picks a free one. */
export async function startMockUpstream({ port = 0 }: { port?: number } = {}): Promise<MockUpstream> {
  const server: Server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, createHandler());
  // Load generators and the gateway's pool hold their connections for the whole run.
  server.headersTimeout = 66_000;
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/v1`,
    async close() {
      const closed = once(server, "close");
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`mock-upstream: --port expects 0..65535, got ${JSON.stringify(values.port)}\n`);
    process.exitCode = 2;
    return;
  }
  const upstream = await startMockUpstream({ port });
  process.stdout.write(`${JSON.stringify({ msg: "listening", url: upstream.url })}\n`);
  const stop = () => void upstream.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
