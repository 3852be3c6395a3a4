/**
 * Scheduled misbehaviour. Each fault is armed by a test and consumed by the requests it hits, so a
 * test states exactly how many requests fail and the fake returns to normal on its own.
 */
export interface Faults {
  /** The next `times` requests for `action` get EC2's 503 RequestLimitExceeded or EBS's RequestThrottledException. */
  throttle(action: string, times: number): void;
  /** The next `times` requests for `action` have their socket destroyed before any response byte. */
  resetConnection(action: string, times: number): void;
  /** The next ImportSnapshot task fails: it ends `deleted` with this StatusMessage. */
  failImport(statusMessage: string): void;
  /** PutSnapshotBlock on snapshots started from now on is refused for `ms` after their StartSnapshot. */
  rejectBlockWritesFor(ms: number): void;
}

function countdown(times: number, what: string): number {
  if (!Number.isInteger(times) || times < 0) throw new RangeError(`${what}: times must be a non-negative integer, got ${times}`);
  return times;
}

export class FaultPlan implements Faults {
  readonly #throttles = new Map<string, number>();
  readonly #resets = new Map<string, number>();
  readonly #importFailures: string[] = [];
  #blockWriteRejectionMs = 0;

  throttle(action: string, times: number): void {
    this.#throttles.set(action, (this.#throttles.get(action) ?? 0) + countdown(times, "throttle"));
  }

  resetConnection(action: string, times: number): void {
    this.#resets.set(action, (this.#resets.get(action) ?? 0) + countdown(times, "resetConnection"));
  }

  failImport(statusMessage: string): void {
    this.#importFailures.push(statusMessage);
  }

  rejectBlockWritesFor(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`rejectBlockWritesFor: ms must be >= 0, got ${ms}`);
    this.#blockWriteRejectionMs = ms;
  }

  /** True (and one fewer left) when this request should be throttled. */
  takeThrottle(action: string): boolean {
    return take(this.#throttles, action);
  }

  takeReset(action: string): boolean {
    return take(this.#resets, action);
  }

  takeImportFailure(): string | undefined {
    return this.#importFailures.shift();
  }

  get blockWriteRejectionMs(): number {
    return this.#blockWriteRejectionMs;
  }
}

function take(counters: Map<string, number>, action: string): boolean {
  const left = counters.get(action) ?? 0;
  if (left <= 0) return false;
  counters.set(action, left - 1);
  return true;
}
