// The one wait loop for what settles on AWS's side (an import task, a snapshot, an AMI): check,
// give up before a sleep that would end past the deadline, sleep, back off.
import { setTimeout as sleep } from "node:timers/promises";

export interface PollOptions {
  /** Epoch milliseconds. */
  readonly deadline: number;
  readonly initialMs: number;
  readonly maxMs: number;
  /** Each wait is the previous one times this (rounded), up to `maxMs`. */
  readonly growth: number;
  readonly signal?: AbortSignal;
}

/**
 * Calls `check` until it returns a value. `check` throws to fail the wait; `timedOut` makes the
 * error thrown when the next check would come after the deadline.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, timedOut: () => Error, options: PollOptions): Promise<T> {
  let delay = options.initialMs;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() + delay > options.deadline) throw timedOut();
    await sleep(delay, undefined, { signal: options.signal });
    delay = Math.min(options.maxMs, Math.round(delay * options.growth));
  }
}
