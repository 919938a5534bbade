import { z } from "zod";

// The fields the gateway reads or must keep sane. Unknown fields are kept and forwarded: OpenAI adds
// parameters often, and a gateway that dropped them would silently change behaviour.

const contentPart = z.looseObject({ type: z.string().min(1) });

export const chatMessageSchema = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
});

export const chatRequestSchema = z.looseObject({
  model: z.string().max(256).optional(),
  messages: z.array(chatMessageSchema).min(1, { error: "messages must hold at least one message" }),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  response_format: z
    .looseObject({ type: z.enum(["text", "json_object", "json_schema"]) })
    .nullable()
    .optional(),
  tools: z.array(z.looseObject({ type: z.string() })).optional(),
});

export const embeddingsRequestSchema = z.looseObject({
  model: z.string().max(256).optional(),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1),
  ]),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;

/** The first problem as OpenAI reports it: a message and the dotted `param`. */
export function firstIssue(error: z.ZodError): { message: string; param: string } {
  const issue = error.issues[0];
  const param = issue?.path.map(String).join(".") || "body";
  return { message: `Invalid value for '${param}': ${issue?.message ?? "invalid"}.`, param };
}
