import { Pool } from "undici";
import {
  type Endpoint,
  type Provider,
  type ProviderCallOptions,
  ProviderError,
  type UpstreamResponse,
} from "../types.js";
import { byteStream, readAllBytes, readErrorBody } from "./body.js";
import { openCallScope } from "./call-scope.js";
import { toProviderError } from "./classify-error.js";
import { buildRequestHeaders, responseHeaders } from "./headers.js";
import { type OpenAICompatibleOptions, resolveOptions } from "./options.js";
import { parseRetryAfterMs } from "./retry-after.js";

/**
 * A Provider for any server speaking OpenAI's HTTP API: OpenAI and other clouds, Ollama,
 * llama-server, vLLM. One keep-alive undici Pool per provider: measured here, the global fetch made a
 * proxy five times slower.
 */
export function createOpenAICompatibleProvider(options: OpenAICompatibleOptions): Provider {
  const o = resolveOptions(options);
  const pool = new Pool(o.origin, {
    connections: o.maxConnections,
    connect: { timeout: o.connectTimeoutMs },
    headersTimeout: o.headersTimeoutMs,
    bodyTimeout: o.headersTimeoutMs,
  });
  let closed: Promise<void> | undefined;

  const pathFor = (suffix: string) => `${o.basePath}/${suffix}${o.search}`;

  async function call(
    endpoint: Endpoint,
    body: Readonly<Record<string, unknown>>,
    { signal, requestId, headers }: ProviderCallOptions,
  ): Promise<UpstreamResponse> {
    if (!o.endpoints.includes(endpoint)) {
      // The router never sends an endpoint a target does not list; reaching here is a gateway bug.
      throw new Error(`${o.name}: endpoint ${endpoint} is not served by this provider`);
    }
    if (signal.aborted) throw new ProviderError("aborted", `${o.name}: call aborted before it started`);

    const payload = JSON.stringify(o.model ? { ...body, model: o.model } : body);
    const scope = openCallScope(signal, o.totalTimeoutMs);
    const mapError = (err: unknown) => toProviderError(err, scope, o.name);

    let res: Awaited<ReturnType<Pool["request"]>>;
    try {
      res = await pool.request({
        method: "POST",
        path: pathFor(endpoint),
        headers: buildRequestHeaders({
          apiKey: o.apiKey,
          requestId,
          stream: body.stream === true,
          extra: headers,
        }),
        body: payload,
        signal: scope.signal,
      });
    } catch (err) {
      scope.dispose();
      throw mapError(err);
    }

    if (res.statusCode < 200 || res.statusCode > 299) {
      const errorBody = await readErrorBody(res.body);
      scope.dispose();
      const retryAfter = res.headers["retry-after"];
      throw new ProviderError("http", `${o.name}: upstream answered ${res.statusCode}`, {
        status: res.statusCode,
        retryAfterMs: parseRetryAfterMs(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, o.now()),
        body: errorBody,
      });
    }

    const answer = res.body;
    let stream: AsyncIterable<Uint8Array> | undefined;
    return {
      status: res.statusCode,
      headers: responseHeaders(res.headers),
      // Built when asked for: a JSON answer is read with readAll and never needs the iterator.
      get body() {
        stream ??= byteStream(answer, mapError, scope.dispose);
        return stream;
      },
      readAll: (limitBytes) => readAllBytes(answer, limitBytes, mapError, scope.dispose),
    };
  }

  async function probe(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new ProviderError("aborted", `${o.name}: probe aborted before it started`);
    const scope = openCallScope(signal, o.probeTimeoutMs);
    let res: Awaited<ReturnType<Pool["request"]>>;
    try {
      res = await pool.request({
        method: "GET",
        path: pathFor("models"),
        headers: o.apiKey ? { accept: "application/json", authorization: `Bearer ${o.apiKey}` } : {},
        signal: scope.signal,
      });
    } catch (err) {
      scope.dispose();
      const mapped = toProviderError(err, scope, o.name);
      // Any answer proves the link; a connection that breaks before one does not, whatever the cause.
      if (mapped.kind !== "protocol") throw mapped;
      throw new ProviderError("connect", `${o.name}: probe got no HTTP answer`, { cause: err });
    }
    scope.dispose();
    // Drain rather than destroy so the keep-alive connection stays usable; dump() gives up past
    // 128 KiB and the pool's body timeout bounds a stalled body.
    res.body.dump().catch(() => undefined);
  }

  function close(): Promise<void> {
    // Destroy, not close: a graceful close waits for bodies nobody may ever read. Calls still in
    // flight end as "aborted".
    closed ??= pool.destroy();
    return closed;
  }

  return { name: o.name, kind: o.kind, endpoints: o.endpoints, call, probe, close };
}
