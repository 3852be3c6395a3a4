// The pipeline's one retry policy (docs/IMAGE_PIPELINE.md, "Retries"). Three layers, all here:
//  1. every AWS request: the SDK's own attempts (`sdkAttempts`), full-jitter backoff from
//     `retryBaseMs`, for throttling, 5xx and dropped connections (`sdkRetryStrategy`);
//  2. throttling that outlasts those attempts: more rounds with longer jittered waits
//     (`throttleRetries`), logged with the phase, then THROTTLED (`throttleMiddleware`);
//  3. eventual consistency: AWS's describes and tag calls may answer NotFound for a while after
//     the write that made the resource. Only callers that know they just wrote something wait it out,
//     for at most `consistencyWaitMs` (`untilVisible`); elsewhere NotFound still means "gone".
// The phase and the progress reporter travel in an AsyncLocalStorage, so a request made deep inside
// a step is logged and reported with the step's name without threading it through every call.
import { AsyncLocalStorage } from "node:async_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { InitializeMiddleware, MetadataBearer, RetryErrorInfo, RetryStrategyV2, RetryToken } from "@smithy/types";
import { awsCode, ImagePipelineError, isAwsError } from "./errors.ts";
import type { PipelineStep, Reporter } from "./progress.ts";

export interface RetryPolicy {
  /** Attempts the SDK makes per request (its own default is 3 for EC2, 5 was this pipeline's). */
  readonly sdkAttempts: number;
  /** Base of every full-jitter exponential backoff, in ms. */
  readonly retryBaseMs: number;
  /** Rounds of SDK attempts added when AWS still throttles. */
  readonly throttleRetries: number;
  /** How long a resource this run just wrote may answer NotFound before that counts. */
  readonly consistencyWaitMs: number;
}

/** Error codes AWS uses for throttling (the SDK's own list, plus EBS direct's). */
export const THROTTLING_CODES = [
  "RequestLimitExceeded",
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottledException",
  "RequestThrottled",
  "TooManyRequestsException",
  "SlowDown",
  "EC2ThrottledException",
  "BandwidthLimitExceeded",
  "ProvisionedThroughputExceededException",
  "PriorRequestNotComplete",
] as const;

/** NotFound codes that can be eventual consistency when the resource was just made. */
export const NOT_FOUND_CODES = ["InvalidSnapshot.NotFound", "InvalidAMIID.NotFound", "InvalidID", "ResourceNotFoundException"] as const;

const MAX_DELAY_MS = 20_000;

interface Scope {
  readonly phase: PipelineStep;
  readonly report: Reporter;
}

const scope = new AsyncLocalStorage<Scope>();

/** Runs `work` as `phase`: AWS retries inside it are reported under that step. */
export function inPhase<T>(phase: PipelineStep, report: Reporter, work: () => Promise<T>): Promise<T> {
  return scope.run({ phase, report }, work);
}

export function currentPhase(): PipelineStep | undefined {
  return scope.getStore()?.phase;
}

function reportRetry(message: string): void {
  const current = scope.getStore();
  current?.report({ step: current.phase, message });
}

/** Full jitter: a uniformly random wait up to base·2^attempt, capped. */
export function jitteredDelay(baseMs: number, attempt: number): number {
  return Math.random() * Math.min(MAX_DELAY_MS, baseMs * 2 ** attempt);
}

/**
 * The SDK-level strategy: `sdkAttempts` attempts for throttling, transient (reset, timeout) and
 * server errors, with full-jitter backoff; a server's Retry-After is honoured. Client errors are
 * not retried here (NotFound is layer 3's business).
 */
export function sdkRetryStrategy(policy: Pick<RetryPolicy, "sdkAttempts" | "retryBaseMs">): RetryStrategyV2 {
  const token = (count: number, delay: number): RetryToken => ({ getRetryCount: () => count, getRetryDelay: () => delay });
  return {
    acquireInitialRetryToken: async () => token(0, 0),
    refreshRetryTokenForRetry: async (previous: RetryToken, info: RetryErrorInfo) => {
      const count = previous.getRetryCount() + 1;
      if (info.errorType === "CLIENT_ERROR" || count >= policy.sdkAttempts) throw new Error("no retry left");
      const hinted = info.retryAfterHint ? Math.max(0, info.retryAfterHint.getTime() - Date.now()) : 0;
      return token(count, Math.max(hinted, jitteredDelay(policy.retryBaseMs, count)));
    },
    recordSuccess: () => undefined,
  };
}

/**
 * An `initialize`-step middleware (outside the SDK's retry loop): a request whose attempts all
 * ended in throttling gets `throttleRetries` more rounds, each after a longer jittered wait. The
 * waits are reported with the phase; when they run out, THROTTLED names the phase and the request.
 */
export function throttleMiddleware<Input extends object, Output extends MetadataBearer>(
  policy: Pick<RetryPolicy, "sdkAttempts" | "retryBaseMs" | "throttleRetries">,
): InitializeMiddleware<Input, Output> {
  return (next, context) =>
    async (args) => {
      const request = `${(context.clientName ?? "").replace(/Client$/, "")} ${context.commandName?.replace(/Command$/, "") ?? "request"}`.trim();
      for (let round = 1; ; round++) {
        try {
          return await next(args);
        } catch (error) {
          if (!isAwsError(error, ...THROTTLING_CODES)) throw error;
          if (round > policy.throttleRetries) {
            throw new ImagePipelineError(
              "THROTTLED",
              `${request} was throttled by AWS (${awsCode(error)}) through ${policy.sdkAttempts} attempts × ${round} rounds of backoff`,
              { request },
              {
                cause: error,
                phase: currentPhase(),
                resource: request,
                fix: "something else in this account and region is making many EC2/EBS requests; wait a few minutes and run again (the pipeline resumes where it stopped), or ask AWS for a higher request quota",
              },
            );
          }
          // Past the SDK's own attempts: wait longer than its last backoff did.
          const delay = jitteredDelay(policy.retryBaseMs, policy.sdkAttempts + round);
          reportRetry(`${request} throttled (${awsCode(error)}) after ${policy.sdkAttempts} attempts; retry round ${round} of ${policy.throttleRetries} in ${(delay / 1000).toFixed(1)} s`);
          await sleep(delay);
        }
      }
    };
}

/**
 * Runs `read` (a describe or tag call on something this run just made) until it stops answering
 * NotFound, for at most `consistencyWaitMs`; then NOT_VISIBLE says what stayed missing.
 */
export async function untilVisible<T>(
  what: { readonly resource: string; readonly policy: Pick<RetryPolicy, "retryBaseMs" | "consistencyWaitMs">; readonly signal?: AbortSignal },
  read: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + what.policy.consistencyWaitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (!isAwsError(error, ...NOT_FOUND_CODES)) throw error;
      const delay = Math.max(1, jitteredDelay(what.policy.retryBaseMs, Math.min(attempt, 6)));
      if (Date.now() + delay > deadline) {
        throw new ImagePipelineError(
          "NOT_VISIBLE",
          `${what.resource} was still not found (${awsCode(error)}) ${Math.round(what.policy.consistencyWaitMs / 1000)} s after this run made it`,
          { resource: what.resource },
          {
            cause: error,
            phase: currentPhase(),
            resource: what.resource,
            fix: `check in the console whether ${what.resource} exists in this region; if it does, run again (it is adopted or reused), if not, run again to make it anew; raise tuning.consistencyWaitMs if AWS is slow here`,
          },
        );
      }
      reportRetry(`${what.resource} not visible yet (${awsCode(error)}, AWS is eventually consistent); retry ${attempt} in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay, undefined, { signal: what.signal });
    }
  }
}
