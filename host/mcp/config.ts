import { z } from "zod";

/** Upstream names become tool prefixes (`name__tool`) and metric labels: keep them plain. */
const upstreamName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/, {
  error: "expected 1-48 letters, digits, '-' or '_', starting with a letter or digit",
});
const toolNames = z.array(z.string().min(1)).optional();

const common = {
  name: upstreamName.describe(
    "Prefix of the upstream's tools (`name__tool`) and its metric label: 1-48 letters, digits, '-' or '_'.",
  ),
  /** Only these tools, resources and prompts (by their upstream names) are offered; all when absent. */
  include: toolNames.describe(
    "Only these tools, resources and prompts (by their upstream names) are offered. Unset: all.",
  ),
  /** These are never offered, even when `include` names them. */
  exclude: toolNames.describe("These are never offered, even when `include` names them."),
};

export const httpUpstreamSchema = z
  .object({
    ...common,
    /** Streamable HTTP endpoint of the upstream server. */
    url: z
      .url({ protocol: /^https?$/, error: "expected an http(s) URL" })
      .describe("Streamable HTTP endpoint of the upstream server."),
    /** Sent to the upstream on every request: its own credentials, never the client's. */
    headers: z
      .record(z.string(), z.string())
      .optional()
      .describe("Sent to the upstream on every request: its own credentials, never the client's."),
    /** Tools whose calls may wait in the durable queue while the upstream is unreachable. */
    queueable: toolNames.describe(
      "Tools whose calls may wait in the durable queue while the upstream is unreachable.",
    ),
  })
  .strict()
  .meta({ title: "HTTP upstream" });

export const stdioUpstreamSchema = z
  .object({
    ...common,
    /** Program the gateway spawns and supervises; it speaks MCP on stdin/stdout. */
    command: z
      .string()
      .min(1)
      .describe("Program the gateway spawns and supervises; it speaks MCP on stdin/stdout."),
    args: z.array(z.string()).optional().describe("Arguments of the program."),
    /** Added to a minimal environment (PATH, HOME, ...); the gateway's own secrets are not passed. */
    env: z
      .record(z.string(), z.string())
      .optional()
      .describe(
        "Added to a minimal environment (PATH, HOME, ...); the gateway's own secrets are not passed.",
      ),
    /** Working directory of the program. */
    cwd: z.string().optional().describe("Working directory of the program."),
  })
  .strict()
  .meta({ title: "stdio upstream" });

export const upstreamSchema = z.union([httpUpstreamSchema, stdioUpstreamSchema], {
  error: "expected an HTTP upstream {name, url, ...} or a stdio upstream {name, command, ...}",
});

export type HttpUpstreamConfig = z.infer<typeof httpUpstreamSchema>;
export type StdioUpstreamConfig = z.infer<typeof stdioUpstreamSchema>;
export type UpstreamConfig = z.infer<typeof upstreamSchema>;

export function isHttpUpstream(u: UpstreamConfig): u is HttpUpstreamConfig {
  return "url" in u;
}

export const mcpConfigSchema = z
  .object({
    /** Serve `/mcp`. */
    enabled: z.boolean().default(true).describe("Serve `/mcp`."),
    /**
     * Host names a request's `Host` header may carry (DNS-rebinding protection). Empty: loopback
     * names when the gateway binds loopback, any host otherwise (API keys are then required).
     */
    allowedHosts: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "Host names a request's `Host` header may carry (DNS-rebinding protection). Empty: loopback names when the gateway binds loopback, any host otherwise (API keys are then required).",
      ),
    /**
     * Origins (host names, or `scheme://*` for browser extensions) a browser request may come
     * from. Requests without an Origin header (every non-browser client) pass. Empty: loopback only.
     */
    allowedOrigins: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "Origins (host names, or `scheme://*` for browser extensions) a browser request may come from; requests without an Origin header (every non-browser client) pass. Empty: loopback only.",
      ),
    upstreams: z
      .array(upstreamSchema)
      .default([])
      .describe(
        "MCP servers behind `/mcp`, reached over Streamable HTTP or run as a child process on stdio.",
      ),
    /** Offer the gateway's own tools, edge_chat and edge_queue_status, next to the upstreams'. */
    gatewayTools: z
      .boolean()
      .default(true)
      .describe("Offer the gateway's own tools, edge_chat and edge_queue_status, next to the upstreams'."),
    /** Answer sampling requests from upstream servers with a local model (never the cloud). */
    sampling: z
      .boolean()
      .default(false)
      .describe(
        "Answer sampling requests (`sampling/createMessage`) that upstream servers send while serving a call, with a local model, never the cloud.",
      ),
    /** Timeout of one upstream call, in milliseconds. */
    callTimeoutMs: z.number().int().positive().default(60_000).describe("Timeout of one upstream call."),
    /** How long a finished task stays retrievable, in milliseconds. */
    taskTtlMs: z
      .number()
      .int()
      .positive()
      .default(7 * 24 * 3600_000)
      .describe(
        "The `ttlMs` announced in tasks; finished tasks are kept as long as `queue.retentionMs`, so keep the two alike.",
      ),
    /** Poll interval suggested to clients holding a task, in milliseconds. */
    taskPollMs: z
      .number()
      .int()
      .positive()
      .default(2_000)
      .describe("Poll interval suggested to clients holding a task."),
    /** First and longest wait between reconnects to an upstream that went away, in milliseconds. */
    reconnectMinMs: z
      .number()
      .int()
      .positive()
      .default(500)
      .describe(
        "First wait before reconnecting to an upstream that went away; doubles up to reconnectMaxMs.",
      ),
    reconnectMaxMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe("Longest wait between reconnects to an upstream."),
  })
  .strict()
  .describe("The MCP gateway at `/mcp`: upstream servers, their tools and durable tasks; see docs/mcp.md.")
  .superRefine((mcp, ctx) => {
    const seen = new Set<string>();
    mcp.upstreams.forEach((u, i) => {
      if (seen.has(u.name))
        ctx.addIssue({
          code: "custom",
          path: ["upstreams", i, "name"],
          message: `duplicate upstream name '${u.name}'`,
        });
      seen.add(u.name);
    });
  });

export type McpConfig = z.infer<typeof mcpConfigSchema>;
