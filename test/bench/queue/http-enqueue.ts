/**
 * Acknowledged durable enqueues through the gateway's HTTP API: a gateway process whose cloud is down
 * (a closed port), so every `Prefer: respond-async` request is written to the queue and stays there,
 * and autocannon with many connections. Afterwards the file is counted through its own connection:
 * every 202 must have its row on disk.
 */
import { join } from "node:path";
import autocannon from "autocannon";
import { request } from "undici";
import { QueueStore } from "../../../host/queue/index.js";
import { closedPortUrl } from "../../fakes/openai-upstream.js";
import { summarize } from "../http/load.js";
import { startGateway } from "../http/processes.js";
import { CHAT_BODY } from "./store-rates.js";

const API_KEY = "bench-key";
const PATH = "/v1/chat/completions";

export interface HttpEnqueueResult {
  connections: number;
  seconds: number;
  acceptedPerS: number;
  accepted: number;
  non2xx: number;
  errors: number;
  latency: ReturnType<typeof summarize>;
  /** 202s over the whole run (smoke, warm-up, measured) and the rows the file holds afterwards. */
  acknowledgedTotal: number;
  rowsOnDisk: number;
}

interface Phase {
  accepted: number;
  non2xx: number;
  errors: number;
  durationS: number;
  samples: number[];
}

async function load(origin: string, connections: number, durationS: number): Promise<Phase> {
  const samples: number[] = [];
  const instance = autocannon({
    url: `${origin}${PATH}`,
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${API_KEY}`,
      prefer: "respond-async",
    },
    body: JSON.stringify(CHAT_BODY),
    connections,
    duration: durationS,
    timeout: 10,
  });
  instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status === 202) samples.push(ms);
  });
  const result = await instance;
  return {
    accepted: samples.length,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    durationS: result.duration,
    samples,
  };
}

export async function httpEnqueue(options: {
  dataDir: string;
  mode: "tsx" | "dist";
  connections: number;
  seconds: number;
  warmupS: number;
  nodeArgs?: string[];
}): Promise<HttpEnqueueResult> {
  const gateway = await startGateway({
    mode: options.mode,
    nodeArgs: options.nodeArgs ?? [],
    env: {
      GATEWAY_LOG_LEVEL: "warn",
      GATEWAY_API_KEYS: API_KEY,
      GATEWAY_MODELS__ENABLED: "false",
      GATEWAY_CLOUD_URL: await closedPortUrl(),
      GATEWAY_CLOUD_API_KEY: "bench",
      GATEWAY_DATA_DIR: options.dataDir,
      GATEWAY_CORE__LIMITER__TIERS__DEFAULT__REQUESTS_PER_MINUTE: "0",
      GATEWAY_CORE__LIMITER__TIERS__DEFAULT__TOKENS_PER_MINUTE: "0",
      GATEWAY_QUEUE__MAX_ROWS: "10000000",
      GATEWAY_QUEUE__MAX_BYTES: String(2 ** 40),
    },
  });
  let acknowledged = 0;
  let measured: Phase;
  try {
    const smoke = await request(`${gateway.origin}${PATH}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${API_KEY}`,
        prefer: "respond-async",
      },
      body: JSON.stringify(CHAT_BODY),
    });
    const text = await smoke.body.text();
    if (smoke.statusCode !== 202) throw new Error(`smoke enqueue answered ${smoke.statusCode}: ${text}`);
    acknowledged++;
    acknowledged += (await load(gateway.origin, options.connections, options.warmupS)).accepted;
    measured = await load(gateway.origin, options.connections, options.seconds);
    acknowledged += measured.accepted;
  } finally {
    await gateway.child.stop(30_000);
  }
  const store = new QueueStore(join(options.dataDir, "queue.db"), { limits: { maxRows: 1, maxBytes: 1 } });
  const rowsOnDisk = Object.values(store.stats().byStatus).reduce((a, b) => a + b, 0);
  store.close();
  return {
    connections: options.connections,
    seconds: measured.durationS,
    acceptedPerS: Math.round(measured.accepted / measured.durationS),
    accepted: measured.accepted,
    non2xx: measured.non2xx,
    errors: measured.errors,
    latency: summarize(measured.samples),
    acknowledgedTotal: acknowledged,
    rowsOnDisk,
  };
}
