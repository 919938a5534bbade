import { z } from "zod";

/** Upstream names become tool prefixes (`name__tool`) and metric labels: keep them plain. */
const upstreamName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/, {
  error: "expected 1-48 letters, digits, '-' or '_', starting with a letter or digit",
});
const toolNames = z.array(z.string().min(1)).optional();

const common = {
  name: upstreamName,
  /** Only these tools, resources and prompts (by their upstream names) are offered; all when absent. */
  include: toolNames,
  /** These are never offered, even when `include` names them. */
  exclude: toolNames,
};

export const httpUpstreamSchema = z
  .object({
    ...common,
    /** Streamable HTTP endpoint of the upstream server. */
    url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }),
    /** Sent to the upstream on every request: its own credentials, never the client's. */
    headers: z.record(z.string(), z.string()).optional(),
    /** Tools whose calls may wait in the durable queue while the upstream is unreachable. */
    queueable: toolNames,
  })
  .strict();

export const stdioUpstreamSchema = z
  .object({
    ...common,
    /** Program the gateway spawns and supervises; it speaks MCP on stdin/stdout. */
    command: z.string().min(1),
    args: z.array(z.string()).optional(),
    /** Added to a minimal environment (PATH, HOME, ...); the gateway's own secrets are not passed. */
    env: z.record(z.string(), z.string()).optional(),
    /** Working directory of the program. */
    cwd: z.string().optional(),
  })
  .strict();

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
    enabled: z.boolean().default(true),
    /**
     * Host names a request's `Host` header may carry (DNS-rebinding protection). Empty: loopback
     * names when the gateway binds loopback, any host otherwise (API keys are then required).
     */
    allowedHosts: z.array(z.string().min(1)).default([]),
    /**
     * Origins (host names, or `scheme://*` for browser extensions) a browser request may come
     * from. Requests without an Origin header (every non-browser client) pass. Empty: loopback only.
     */
    allowedOrigins: z.array(z.string().min(1)).default([]),
    upstreams: z.array(upstreamSchema).default([]),
    /** Offer the gateway's own tools, edge_chat and edge_queue_status, next to the upstreams'. */
    gatewayTools: z.boolean().default(true),
    /** Answer sampling requests from upstream servers with the gateway's router (local model first). */
    sampling: z.boolean().default(false),
    /** Timeout of one upstream call, in milliseconds. */
    callTimeoutMs: z.number().int().positive().default(60_000),
    /** How long a finished task stays retrievable, in milliseconds. */
    taskTtlMs: z
      .number()
      .int()
      .positive()
      .default(24 * 3600_000),
    /** Poll interval suggested to clients holding a task, in milliseconds. */
    taskPollMs: z.number().int().positive().default(2_000),
    /** First and longest wait between reconnects to an upstream that went away, in milliseconds. */
    reconnectMinMs: z.number().int().positive().default(500),
    reconnectMaxMs: z.number().int().positive().default(30_000),
  })
  .strict()
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
