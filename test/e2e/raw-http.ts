// HTTP requests with exact bytes, for tests that must send what `fetch` would refuse or repair:
// invalid UTF-8, no Content-Type, `..` and `\` left in the path, chunked bodies. One fresh
// connection per request (agent: false), so a request the server cuts off cannot affect the next.

import { type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from "node:http";

export interface RawRequest {
  method?: string;
  /** Sent verbatim as the request target: nothing is normalised or escaped. */
  path: string;
  /** Header names as sent; Host and Content-Length are added unless given. */
  headers?: OutgoingHttpHeaders;
  body?: string | Uint8Array;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
  /** The whole exchange must finish within this; it is bounded so a hung server fails the test. */
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
}

export function rawRequest(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const body = typeof req.body === "string" ? Buffer.from(req.body, "utf8") : req.body;
  const headers: OutgoingHttpHeaders = { ...req.headers };
  if (body !== undefined && !req.chunked && headers["content-length"] === undefined) {
    headers["content-length"] = body.byteLength;
  }
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: hostname, port, method: req.method ?? "POST", path: req.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    outgoing.setTimeout(req.timeoutMs ?? 15_000, () =>
      outgoing.destroy(new Error(`no answer to ${req.method} ${req.path}`)),
    );
    outgoing.on("error", reject);
    if (body !== undefined && req.chunked) {
      // Two writes, so the body really goes out as more than one chunk.
      const half = Math.floor(body.byteLength / 2);
      outgoing.write(body.subarray(0, half));
      outgoing.end(body.subarray(half));
    } else {
      outgoing.end(body);
    }
  });
}
