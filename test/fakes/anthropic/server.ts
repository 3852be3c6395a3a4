/**
 * A local Anthropic Messages API: `POST /v1/messages`, non-streaming JSON and SSE streaming,
 * tool_use / tool_result round trips, API-key or bearer auth, and fault injection (429 with
 * retry-after, 529 overloaded, 500) in the API's error shape. Tests script it with a queue of
 * replies (or functions of the request) and read back every request it received.
 * Imports nothing from the product: it is an independent implementation of the protocol.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { text as readText } from "node:stream/consumers";
import {
  blocksOf,
  errorBody,
  messageObject,
  streamEvents,
  validateRequest,
  type ErrorType,
  type MessagesRequestBody,
  type ResponseBlock,
  type StopReason,
  type ToolResultBlock,
} from "./protocol.ts";

export type * from "./protocol.ts";

/** A request the fake received (recorded before auth and validation, so rejected ones count too). */
export interface RecordedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: MessagesRequestBody;
  /** Which credential the client sent, if any. */
  readonly auth: "x-api-key" | "bearer" | undefined;
  readonly authorized: boolean;
  readonly stream: boolean;
}

/** A message from the model: its content blocks; `stopReason` defaults to tool_use when a block asks for a tool. */
export interface MessageReply {
  readonly content: readonly ResponseBlock[];
  readonly stopReason?: StopReason;
}

/** An HTTP error in the API's shape (`{type: "error", error: {type, message}}`). */
export interface ErrorReply {
  readonly error: {
    readonly status: number;
    readonly type: ErrorType;
    readonly message?: string;
    /** Seconds, sent as the `retry-after` header (the SDK honours fractions). */
    readonly retryAfter?: number;
    readonly headers?: Readonly<Record<string, string>>;
  };
}

export type FakeReply = MessageReply | ErrorReply;
export type Responder = (request: RecordedRequest) => FakeReply | Promise<FakeReply>;

/** Builders for scripted replies. */
export const reply = {
  text(text: string): MessageReply {
    return { content: [{ type: "text", text }], stopReason: "end_turn" };
  },
  /** The model asks for one tool (optionally after some text). The id is generated unless given. */
  toolUse(name: string, input: Record<string, unknown>, options: { id?: string; text?: string } = {}): MessageReply {
    const use = { type: "tool_use" as const, id: options.id ?? `toolu_${randomBytes(8).toString("hex")}`, name, input };
    return { content: options.text ? [{ type: "text", text: options.text }, use] : [use], stopReason: "tool_use" };
  },
  error(status: number, type: ErrorType, options: Omit<ErrorReply["error"], "status" | "type"> = {}): ErrorReply {
    return { error: { status, type, ...options } };
  },
  rateLimited(retryAfterSeconds = 0.01): ErrorReply {
    return reply.error(429, "rate_limit_error", { message: "Number of request tokens has exceeded your per-minute rate limit", retryAfter: retryAfterSeconds });
  },
  overloaded(): ErrorReply {
    return reply.error(529, "overloaded_error", { message: "Overloaded" });
  },
  serverError(): ErrorReply {
    return reply.error(500, "api_error", { message: "Internal server error" });
  },
};

/** Waits `ms` before answering: for client timeouts. */
export function delayed(ms: number, then: FakeReply): Responder {
  return () => new Promise((resolve) => setTimeout(() => resolve(then), ms).unref());
}

export interface AnthropicFakeOptions {
  /** The only key accepted; any non-empty key when unset. */
  readonly apiKey?: string;
  /**
   * How many of the latest requests `requests` keeps (each holds its whole body, system prompt
   * included). Unset: all, for tests. A benchmark sending thousands sets a small number, so the
   * fake's own memory does not show up as the product's.
   */
  readonly keepRequests?: number;
}

export interface AnthropicFake {
  /** Pass as the SDK's `baseURL` (it appends `/v1/messages`). */
  readonly baseUrl: string;
  /** Requests received, oldest first (the latest `keepRequests` of them when that is set). */
  readonly requests: readonly RecordedRequest[];
  /** Every request received since start, however many `requests` keeps. */
  requestCount(): number;
  /** Replies (or responders) for the next requests, first in first out. */
  enqueue(...replies: ReadonlyArray<FakeReply | Responder>): void;
  /** Answers requests once the queue is empty; the default echoes the last user text. */
  respondWith(responder: Responder): void;
  /** How many enqueued replies have not been used yet. */
  pending(): number;
  close(): Promise<void>;
}

/** Starts the fake on 127.0.0.1, on a free port. */
export async function startAnthropicFake(options: AnthropicFakeOptions = {}): Promise<AnthropicFake> {
  const requests: RecordedRequest[] = [];
  const queue: Array<FakeReply | Responder> = [];
  let fallback: Responder = echo;
  let counter = 0;
  let received = 0;
  const keep = options.keepRequests ?? Number.POSITIVE_INFINITY;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody("api_error", `fake failed: ${String(error)}`, "req_fake"), {});
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `req_fake_${++counter}`;
    const url = new URL(req.url ?? "/", "http://fake");
    const raw = await readText(req);
    if (req.method !== "POST" || url.pathname !== "/v1/messages") {
      sendJson(res, 404, errorBody("not_found_error", `Not found: ${req.method} ${url.pathname}`, requestId), { "request-id": requestId });
      return;
    }
    let body: MessagesRequestBody;
    try {
      body = JSON.parse(raw) as MessagesRequestBody;
    } catch {
      sendJson(res, 400, errorBody("invalid_request_error", "request body is not valid JSON", requestId), { "request-id": requestId });
      return;
    }
    const credential = credentialOf(req.headers);
    const authorized = credential !== undefined && (options.apiKey === undefined || credential.value === options.apiKey);
    const recorded: RecordedRequest = {
      path: url.pathname,
      headers: req.headers,
      body,
      auth: credential?.kind,
      authorized,
      stream: body.stream === true,
    };
    received++;
    if (keep > 0) requests.push(recorded);
    if (requests.length > keep) requests.splice(0, requests.length - keep);
    const headers = { "request-id": requestId };
    if (!authorized) {
      sendJson(res, 401, errorBody("authentication_error", "invalid x-api-key", requestId), headers);
      return;
    }
    if (!req.headers["anthropic-version"]) {
      sendJson(res, 400, errorBody("invalid_request_error", "anthropic-version: header is required", requestId), headers);
      return;
    }
    const invalid = validateRequest(body);
    if (invalid) {
      sendJson(res, 400, errorBody("invalid_request_error", invalid, requestId), headers);
      return;
    }
    const next = queue.shift() ?? fallback;
    const answer = typeof next === "function" ? await next(recorded) : next;
    if (res.destroyed) return; // the client gave up (timeout) while the responder waited
    if ("error" in answer) {
      const { status, type, message, retryAfter } = answer.error;
      sendJson(res, status, errorBody(type, message ?? type, requestId), {
        ...headers,
        ...(retryAfter === undefined ? {} : { "retry-after": String(retryAfter) }),
        ...answer.error.headers,
      });
      return;
    }
    const stopReason = answer.stopReason ?? (answer.content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn");
    const usage = { input_tokens: Math.ceil(raw.length / 4), output_tokens: Math.ceil(JSON.stringify(answer.content).length / 4) };
    const id = `msg_fake_${counter}`;
    if (body.stream === true) {
      res.writeHead(200, { ...headers, "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      for (const event of streamEvents(id, body.model, answer.content, stopReason, usage)) res.write(event);
      res.end();
      return;
    }
    sendJson(res, 200, messageObject(id, body.model, answer.content, stopReason, usage), headers);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...replies) => queue.push(...replies),
    respondWith: (responder) => {
      fallback = responder;
    },
    pending: () => queue.length,
    requestCount: () => received,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function credentialOf(headers: IncomingHttpHeaders): { kind: "x-api-key" | "bearer"; value: string } | undefined {
  const apiKey = headers["x-api-key"];
  if (typeof apiKey === "string" && apiKey !== "") return { kind: "x-api-key", value: apiKey };
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "");
  if (bearer?.[1]) return { kind: "bearer", value: bearer[1] };
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: object, headers: Readonly<Record<string, string>>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** The default model: answers with the text of the last user message, so a test sees what arrived. */
const echo: Responder = (request) => reply.text(`echo: ${lastUserText(request)}`);

/** The system prompt of a request as one string. */
export function systemText(request: RecordedRequest): string {
  const system = request.body.system;
  if (system === undefined) return "";
  return typeof system === "string" ? system : system.map((block) => block.text).join("\n");
}

/** Names of the tools a request offered the model. */
export function toolNames(request: RecordedRequest): string[] {
  return (request.body.tools ?? []).map((tool) => tool.name);
}

/** All text of the last user message: its text blocks and the text of its tool results. */
export function lastUserText(request: RecordedRequest): string {
  const last = [...request.body.messages].reverse().find((m) => m.role === "user");
  if (!last) return "";
  return blocksOf(last)
    .map((block) => {
      if (block.type === "text") return (block as { text: string }).text;
      if (block.type === "tool_result") {
        const content = (block as ToolResultBlock).content;
        return typeof content === "string" ? content : (content ?? []).map((c) => c.text ?? "").join("");
      }
      return "";
    })
    .join("\n");
}
