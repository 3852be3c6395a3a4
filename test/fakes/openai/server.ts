/**
 * A local OpenAI Responses API: `POST /v1/responses`, non-streaming JSON and SSE streaming, function
 * calls (`function_call` output items) answered by `function_call_output` input items, bearer auth,
 * and fault injection (429 with `retry-after`, 500) in the API's error shape. Tests script it with
 * a queue of replies (or functions of the request) and read back every request it received.
 * Shapes follow OpenAI's API reference for the Responses object and its streaming events; the real
 * `openai` SDK drives it in test/fakes/openai.test.ts. Imports nothing from the product.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { text as readText } from "node:stream/consumers";

export type Json = Record<string, unknown>;

/** The request body fields the fake reads; the rest is kept as sent. */
export interface ResponsesRequestBody extends Json {
  readonly model?: unknown;
  readonly input?: unknown;
  readonly instructions?: unknown;
  readonly tools?: unknown;
  readonly stream?: unknown;
  readonly previous_response_id?: unknown;
  readonly max_output_tokens?: unknown;
}

export interface RecordedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: ResponsesRequestBody;
  readonly authorized: boolean;
  readonly stream: boolean;
}

/** An item the model outputs: a message with text, or a call of one of the request's function tools. */
export type OutputSpec = { readonly type: "message"; readonly text: string } | { readonly type: "function_call"; readonly name: string; readonly arguments: string; readonly callId?: string };

export interface ModelReply {
  readonly output: readonly OutputSpec[];
  /** `incomplete` with reason max_output_tokens, as when the model ran out of tokens. */
  readonly incomplete?: boolean;
  /** Override the usage the fake reports (default: characters / 4). */
  readonly usage?: { readonly input: number; readonly output: number };
}

export interface ErrorReply {
  readonly error: {
    readonly status: number;
    readonly type: string;
    readonly message?: string;
    readonly code?: string | null;
    /** Seconds, sent as `retry-after`. */
    readonly retryAfter?: number;
  };
}

export type FakeReply = ModelReply | ErrorReply;
export type Responder = (request: RecordedRequest) => FakeReply | Promise<FakeReply>;

export const reply = {
  text(text: string): ModelReply {
    return { output: [{ type: "message", text }] };
  },
  /** The model calls one function (arguments as an object, sent as the JSON string the API uses). */
  call(name: string, args: Record<string, unknown>, options: { callId?: string; text?: string } = {}): ModelReply {
    const call: OutputSpec = { type: "function_call", name, arguments: JSON.stringify(args), ...(options.callId ? { callId: options.callId } : {}) };
    return { output: options.text ? [{ type: "message", text: options.text }, call] : [call] };
  },
  /** Several calls in one response (parallel tool calls). */
  calls(...calls: ReadonlyArray<{ name: string; args: Record<string, unknown> }>): ModelReply {
    return { output: calls.map((c) => ({ type: "function_call", name: c.name, arguments: JSON.stringify(c.args) })) };
  },
  error(status: number, type: string, options: Omit<ErrorReply["error"], "status" | "type"> = {}): ErrorReply {
    return { error: { status, type, ...options } };
  },
  rateLimited(retryAfterSeconds = 0.01): ErrorReply {
    return reply.error(429, "requests", { message: "Rate limit reached for requests", code: "rate_limit_exceeded", retryAfter: retryAfterSeconds });
  },
  serverError(): ErrorReply {
    return reply.error(500, "server_error", { message: "The server had an error while processing your request." });
  },
};

export interface OpenAIFakeOptions {
  /** The only key accepted; any non-empty bearer key when unset. */
  readonly apiKey?: string;
}

export interface OpenAIFake {
  /** Pass as the SDK's `baseURL` (it appends `/responses`). */
  readonly baseUrl: string;
  readonly requests: readonly RecordedRequest[];
  enqueue(...replies: ReadonlyArray<FakeReply | Responder>): void;
  respondWith(responder: Responder): void;
  pending(): number;
  close(): Promise<void>;
}

interface StoredResponse {
  readonly input: readonly Json[];
  readonly output: readonly Json[];
  readonly previous: string | undefined;
}

export async function startOpenAIFake(options: OpenAIFakeOptions = {}): Promise<OpenAIFake> {
  const requests: RecordedRequest[] = [];
  const queue: Array<FakeReply | Responder> = [];
  const stored = new Map<string, StoredResponse>();
  let fallback: Responder = () => reply.text("(the fake has no scripted reply left)");
  let counter = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, "server_error", `fake failed: ${String(error)}`, null);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const raw = await readText(req);
    if (req.method !== "POST" || url.pathname !== "/v1/responses") {
      sendError(res, 404, "invalid_request_error", `Invalid URL (${req.method} ${url.pathname})`, null);
      return;
    }
    let body: ResponsesRequestBody;
    try {
      body = JSON.parse(raw) as ResponsesRequestBody;
    } catch {
      sendError(res, 400, "invalid_request_error", "We could not parse the JSON body of your request.", null);
      return;
    }
    const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const authorized = key !== undefined && (options.apiKey === undefined || key === options.apiKey);
    const recorded: RecordedRequest = { path: url.pathname, headers: req.headers, body, authorized, stream: body.stream === true };
    requests.push(recorded);
    if (!authorized) {
      sendError(res, 401, "invalid_request_error", "Incorrect API key provided.", "invalid_api_key");
      return;
    }
    const checked = validate(body);
    if (typeof checked === "string") {
      sendError(res, 400, "invalid_request_error", checked, null);
      return;
    }
    const next = queue.shift() ?? fallback;
    const answer = typeof next === "function" ? await next(recorded) : next;
    if (res.destroyed) return;
    if ("error" in answer) {
      const { status, type, message, code, retryAfter } = answer.error;
      sendError(res, status, type, message ?? type, code ?? null, retryAfter === undefined ? {} : { "retry-after": String(retryAfter) });
      return;
    }
    const id = `resp_${randomBytes(12).toString("hex")}`;
    counter++;
    const output = answer.output.map(outputItem);
    stored.set(id, { input: checked, output, previous: typeof body.previous_response_id === "string" ? body.previous_response_id : undefined });
    const usage = answer.usage ?? { input: Math.ceil(raw.length / 4), output: Math.ceil(JSON.stringify(output).length / 4) };
    const response = responseObject(id, body, output, answer.incomplete === true, usage);
    const headers = { "x-request-id": `req_fake_${counter}`, "openai-processing-ms": "1" };
    if (body.stream === true) {
      res.writeHead(200, { ...headers, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
      for (const event of streamEvents(response)) res.write(event);
      res.end();
      return;
    }
    const text = JSON.stringify(response);
    res.writeHead(200, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
  }

  /** The input as items, or a message for a 400. Every function_call_output must answer a call the model made. */
  function validate(body: ResponsesRequestBody): Json[] | string {
    if (typeof body.model !== "string" || body.model === "") return "Missing required parameter: 'model'.";
    const input: Json[] =
      typeof body.input === "string"
        ? [{ type: "message", role: "user", content: body.input }]
        : Array.isArray(body.input)
          ? (body.input as Json[])
          : [];
    if (body.input === undefined && body.previous_response_id === undefined) return "Missing required parameter: 'input'.";
    const history: Json[] = [];
    if (body.previous_response_id !== undefined) {
      let at = typeof body.previous_response_id === "string" ? stored.get(body.previous_response_id) : undefined;
      if (!at) return `Previous response with id '${String(body.previous_response_id)}' not found.`;
      const chain: StoredResponse[] = [];
      while (at) {
        chain.unshift(at);
        at = at.previous === undefined ? undefined : stored.get(at.previous);
      }
      for (const link of chain) history.push(...link.input, ...link.output);
    }
    const calls = new Set<string>();
    for (const item of [...history, ...input]) {
      if (item.type === "function_call" && typeof item.call_id === "string") calls.add(item.call_id);
    }
    for (const [i, item] of input.entries()) {
      if (item.type === "function_call_output") {
        if (typeof item.call_id !== "string" || !calls.has(item.call_id)) {
          return `No tool call found for function call output with call_id ${String(item.call_id)}.`;
        }
        if (typeof item.output !== "string" && !Array.isArray(item.output)) return `Invalid type for 'input[${i}].output'.`;
      }
    }
    if (body.tools !== undefined && !Array.isArray(body.tools)) return "Invalid type for 'tools': expected an array.";
    return input;
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue(...replies) {
      queue.push(...replies);
    },
    respondWith(responder) {
      fallback = responder;
    },
    pending: () => queue.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function outputItem(spec: OutputSpec): Json {
  if (spec.type === "message") {
    return {
      id: `msg_${randomBytes(12).toString("hex")}`,
      type: "message",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: spec.text, annotations: [], logprobs: [] }],
    };
  }
  return {
    id: `fc_${randomBytes(12).toString("hex")}`,
    type: "function_call",
    status: "completed",
    call_id: spec.callId ?? `call_${randomBytes(12).toString("hex")}`,
    name: spec.name,
    arguments: spec.arguments,
  };
}

function responseObject(id: string, body: ResponsesRequestBody, output: readonly Json[], incomplete: boolean, usage: { input: number; output: number }): Json {
  return {
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status: incomplete ? "incomplete" : "completed",
    background: false,
    error: null,
    incomplete_details: incomplete ? { reason: "max_output_tokens" } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: body.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: body.store ?? true,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: body.tool_choice ?? "auto",
    tools: body.tools ?? [],
    top_p: 1,
    truncation: "disabled",
    usage: {
      input_tokens: usage.input,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: usage.output,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: usage.input + usage.output,
    },
    user: null,
    metadata: {},
  };
}

/** The SSE events of a response, as the API streams them: lifecycle, then per item added → deltas → done, then completed. */
function streamEvents(response: Json): string[] {
  let sequence = 0;
  const event = (type: string, data: Json): string => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`;
  const output = response.output as Json[];
  const started = { ...response, status: "in_progress", output: [], usage: null };
  const events = [event("response.created", { response: started }), event("response.in_progress", { response: started })];
  output.forEach((item, outputIndex) => {
    const itemId = item.id as string;
    if (item.type === "message") {
      const text = ((item.content as Json[])[0]?.text as string | undefined) ?? "";
      events.push(event("response.output_item.added", { output_index: outputIndex, item: { ...item, status: "in_progress", content: [] } }));
      const emptyPart = { type: "output_text", text: "", annotations: [], logprobs: [] };
      events.push(event("response.content_part.added", { item_id: itemId, output_index: outputIndex, content_index: 0, part: emptyPart }));
      for (const delta of chunks(text, 16)) {
        events.push(event("response.output_text.delta", { item_id: itemId, output_index: outputIndex, content_index: 0, delta, logprobs: [] }));
      }
      events.push(event("response.output_text.done", { item_id: itemId, output_index: outputIndex, content_index: 0, text, logprobs: [] }));
      events.push(event("response.content_part.done", { item_id: itemId, output_index: outputIndex, content_index: 0, part: { ...emptyPart, text } }));
    } else {
      const args = item.arguments as string;
      events.push(event("response.output_item.added", { output_index: outputIndex, item: { ...item, status: "in_progress", arguments: "" } }));
      for (const delta of chunks(args, 16)) {
        events.push(event("response.function_call_arguments.delta", { item_id: itemId, output_index: outputIndex, delta }));
      }
      events.push(event("response.function_call_arguments.done", { item_id: itemId, output_index: outputIndex, name: item.name, arguments: args }));
    }
    events.push(event("response.output_item.done", { output_index: outputIndex, item }));
  });
  const last = response.status === "incomplete" ? "response.incomplete" : "response.completed";
  events.push(event(last, { response }));
  return events;
}

function chunks(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

function sendError(res: ServerResponse, status: number, type: string, message: string, code: string | null, headers: Record<string, string> = {}): void {
  const text = JSON.stringify({ error: { message, type, param: null, code } });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "x-request-id": `req_fake_err`, ...headers }).end(text);
}
