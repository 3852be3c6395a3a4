import {
  APIConnectionError,
  APIConnectionTimeoutError,
  AuthenticationError,
  InternalServerError,
  OverloadedError,
  PermissionDeniedError,
  RateLimitError,
} from "@anthropic-ai/sdk";

/**
 * What a maintainer is told when the model cannot answer. The SDK has already retried (429, 5xx,
 * 529, timeouts, connection errors) as often as `brain.maxRetries` allows; these are the failures
 * left after that. Decided by the SDK's error classes, never by message text.
 */
export type ModelFailureCode = "rate-limited" | "overloaded" | "server-error" | "timeout" | "unreachable" | "auth" | "turn-timeout";

export interface ModelFailure {
  readonly code: ModelFailureCode;
  /** Said to the maintainer: what happened and what to do. */
  readonly userMessage: string;
  /** HTTP status, when there was a response. */
  readonly status?: number;
}

export interface FailureContext {
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly baseURL: string;
}

export function describeModelFailure(error: unknown, context: FailureContext): ModelFailure | undefined {
  const tries = `${context.maxRetries + 1} ${context.maxRetries === 0 ? "try" : "tries"}`;
  if (error instanceof RateLimitError) {
    return {
      code: "rate-limited",
      status: 429,
      userMessage: `The model API is rate-limiting us (429) and still was after ${tries}. Give it a minute, then ask again.`,
    };
  }
  if (error instanceof OverloadedError) {
    return {
      code: "overloaded",
      status: 529,
      userMessage: `Anthropic's API is overloaded (529) and still was after ${tries}. Not my fault, not yours: ask again in a few minutes.`,
    };
  }
  if (error instanceof InternalServerError) {
    return {
      code: "server-error",
      status: error.status,
      userMessage: `The model API failed on its side (HTTP ${error.status}) ${tries} in a row. Ask again in a few minutes.`,
    };
  }
  if (error instanceof APIConnectionTimeoutError) {
    return {
      code: "timeout",
      userMessage: `The model did not answer within ${duration(context.timeoutMs)} (${tries}). Ask again, or ask something smaller.`,
    };
  }
  if (error instanceof APIConnectionError) {
    return {
      code: "unreachable",
      userMessage: `I cannot reach the model API at ${context.baseURL} (${tries}). An operator should check the network and "endpoints.anthropic".`,
    };
  }
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) {
    return {
      code: "auth",
      status: error.status,
      userMessage: `The model API refused my key (HTTP ${error.status}). An operator should check "anthropicApiKeyFile".`,
    };
  }
  return undefined;
}

export interface TurnTimeoutContext {
  readonly turnTimeoutMs: number;
  /** Model calls made before the deadline. */
  readonly steps: number;
  /** Tools that ran before the deadline, in order (repeats allowed). */
  readonly tools: readonly string[];
}

/**
 * The whole turn ran past `brain.turnTimeoutMs`: the request in flight was cancelled and no further
 * tool ran. Said plainly, with what did happen, so the maintainer knows what state things are in.
 */
export function describeTurnTimeout(context: TurnTimeoutContext): ModelFailure {
  const calls = `${context.steps} model ${context.steps === 1 ? "call" : "calls"}`;
  const tools = context.tools.length > 0 ? `; tools that ran: ${[...new Set(context.tools)].join(", ")}` : "";
  return {
    code: "turn-timeout",
    userMessage:
      `This took longer than the ${duration(context.turnTimeoutMs)} I allow for one answer (brain.turnTimeoutMs), so I stopped ` +
      `after ${calls}${tools}; nothing more ran after that. Ask again, or ask something smaller.`,
  };
}

function duration(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Math.round(ms / 1_000)} s`;
}
