/**
 * The Anthropic Messages API wire shapes the fake reads and writes, written from the public API
 * reference (not from the SDK and not from the product): request bodies, message objects,
 * error bodies and the server-sent events of a streamed message.
 */

export type Role = "user" | "assistant";

export interface TextBlock {
  readonly type: "text";
  readonly text: string;
}

export interface ToolUseBlock {
  readonly type: "tool_use";
  readonly id: string;
  readonly name: string;
  readonly input: Record<string, unknown>;
}

export interface ToolResultBlock {
  readonly type: "tool_result";
  readonly tool_use_id: string;
  readonly content?: string | ReadonlyArray<{ readonly type: string; readonly text?: string }>;
  readonly is_error?: boolean;
}

export type RequestBlock = TextBlock | ToolUseBlock | ToolResultBlock | { readonly type: string };

export interface MessageParam {
  readonly role: Role;
  readonly content: string | readonly RequestBlock[];
}

export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  readonly input_schema: { readonly type: "object"; readonly [key: string]: unknown };
}

/** The body of `POST /v1/messages`, as far as the fake looks at it. */
export interface MessagesRequestBody {
  readonly model: string;
  readonly max_tokens: number;
  readonly messages: readonly MessageParam[];
  readonly system?: string | ReadonlyArray<{ readonly type: "text"; readonly text: string }>;
  readonly tools?: readonly ToolDefinition[];
  readonly tool_choice?: { readonly type: string; readonly name?: string };
  readonly stream?: boolean;
  readonly [key: string]: unknown;
}

export type ResponseBlock = TextBlock | ToolUseBlock;
export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

/** Error `type` values of the API's error body. */
export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error";

export function errorBody(type: ErrorType, message: string, requestId: string): object {
  return { type: "error", error: { type, message }, request_id: requestId };
}

export interface Usage {
  readonly input_tokens: number;
  readonly output_tokens: number;
}

export function messageObject(
  id: string,
  model: string,
  content: readonly ResponseBlock[],
  stopReason: StopReason,
  usage: Usage,
): object {
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { ...usage, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, service_tier: "standard" },
  };
}

/** One server-sent event, framed as the API frames it: `event:` line, `data:` line, blank line. */
export function sse(event: string, data: object): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The event sequence of a streamed message: message_start, a ping, per block
 * content_block_start / *_delta / content_block_stop, then message_delta and message_stop.
 * Text and tool input arrive in several small deltas, as they do from the real API, so a client
 * that only handles a single delta per block is caught.
 */
export function streamEvents(
  id: string,
  model: string,
  content: readonly ResponseBlock[],
  stopReason: StopReason,
  usage: Usage,
): string[] {
  const events = [
    sse("message_start", {
      type: "message_start",
      message: {
        ...(messageObject(id, model, [], stopReason, { input_tokens: usage.input_tokens, output_tokens: 1 }) as Record<
          string,
          unknown
        >),
        stop_reason: null,
      },
    }),
    sse("ping", { type: "ping" }),
  ];
  content.forEach((block, index) => {
    if (block.type === "text") {
      events.push(sse("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }));
      for (const piece of chunks(block.text, 12)) {
        events.push(sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: piece } }));
      }
    } else {
      events.push(
        sse("content_block_start", {
          type: "content_block_start",
          index,
          content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
        }),
      );
      for (const piece of chunks(JSON.stringify(block.input), 10)) {
        events.push(
          sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } }),
        );
      }
    }
    events.push(sse("content_block_stop", { type: "content_block_stop", index }));
  });
  events.push(
    sse("message_delta", {
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    }),
    sse("message_stop", { type: "message_stop" }),
  );
  return events;
}

function chunks(text: string, size: number): string[] {
  if (text === "") return [""];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * The checks the real API makes on a request body that a client can get wrong, each answered
 * with a 400 `invalid_request_error`: required fields, roles that alternate starting with the
 * user, and every `tool_use` answered by a `tool_result` in the very next user message.
 */
export function validateRequest(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return "body: expected a JSON object";
  const b = body as Partial<MessagesRequestBody>;
  if (typeof b.model !== "string" || b.model === "") return "model: Field required";
  if (typeof b.max_tokens !== "number" || !Number.isInteger(b.max_tokens) || b.max_tokens < 1) {
    return "max_tokens: Field required (a positive integer)";
  }
  if (!Array.isArray(b.messages) || b.messages.length === 0) return "messages: at least one message is required";
  const messages = b.messages as readonly MessageParam[];
  if (messages[0]?.role !== "user") return "messages: first message must use the \"user\" role";
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (!message || (message.role !== "user" && message.role !== "assistant")) return `messages.${i}.role: must be user or assistant`;
    if (i > 0 && messages[i - 1]?.role === message.role) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${message.role}" roles in a row`;
    }
    if (typeof message.content !== "string" && !Array.isArray(message.content)) return `messages.${i}.content: Field required`;
    if (typeof message.content !== "string" && message.content.length === 0) return `messages.${i}: all messages must have non-empty content`;
    const toolUses = blocksOf(message).filter((block): block is ToolUseBlock => block.type === "tool_use");
    if (message.role === "assistant" && toolUses.length > 0) {
      const next = messages[i + 1];
      const answered = new Set(
        (next ? blocksOf(next) : [])
          .filter((block): block is ToolResultBlock => block.type === "tool_result")
          .map((block) => block.tool_use_id),
      );
      const missing = toolUses.filter((use) => !answered.has(use.id)).map((use) => use.id);
      if (next && missing.length > 0) {
        return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
      }
    }
    if (message.role === "user") {
      const previous = i > 0 ? messages[i - 1] : undefined;
      const offered = new Set(
        (previous ? blocksOf(previous) : []).filter((block): block is ToolUseBlock => block.type === "tool_use").map((b) => b.id),
      );
      for (const block of blocksOf(message)) {
        if (block.type === "tool_result" && !offered.has((block as ToolResultBlock).tool_use_id)) {
          return `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${(block as ToolResultBlock).tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
        }
      }
    }
  }
  const names = new Set<string>();
  for (const tool of b.tools ?? []) {
    if (typeof tool.name !== "string" || !/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name)) return `tools: invalid tool name ${String(tool.name)}`;
    if (names.has(tool.name)) return `tools: Tool names must be unique (${tool.name})`;
    if (tool.input_schema?.type !== "object") return `tools.${tool.name}.input_schema.type: Input should be 'object'`;
    names.add(tool.name);
  }
  return undefined;
}

export function blocksOf(message: MessageParam): readonly RequestBlock[] {
  return typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
}
