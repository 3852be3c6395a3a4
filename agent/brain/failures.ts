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
export type ModelFailureCode = "rate-limited" | "overloaded" | "server-error" | "timeout" | "unreachable" | "auth";

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

function duration(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Math.round(ms / 1_000)} s`;
}
