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
  /**
   * Eventual consistency: the next `times` requests for `action` that name resource ids
   * (`SnapshotId.N`, `ImageId.N`, `ResourceId.N`) answer the NotFound error EC2 gives for the first
   * of them (`InvalidSnapshot.NotFound`, `InvalidAMIID.NotFound`), as AWS does for a while after the
   * write that made them. Requests without ids (filters only) are not affected and do not count.
   */
  notFound(action: string, times: number): void;
  /**
   * The next `parties` requests for `action` are held until all of them have arrived, then go on
   * in arrival order: two runs are forced to reach the same step together (a race made certain).
   */
  barrier(action: string, parties: number): void;
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
  readonly #notFounds = new Map<string, number>();
  readonly #barriers = new Map<string, { parties: number; waiting: Array<() => void> }>();

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

  notFound(action: string, times: number): void {
    this.#notFounds.set(action, (this.#notFounds.get(action) ?? 0) + countdown(times, "notFound"));
  }

  barrier(action: string, parties: number): void {
    if (!Number.isInteger(parties) || parties < 2) throw new RangeError(`barrier: parties must be an integer >= 2, got ${parties}`);
    this.#barriers.set(action, { parties, waiting: [] });
  }

  takeNotFound(action: string): boolean {
    return take(this.#notFounds, action);
  }

  /** Resolves when this request may go on: at once, or when the barrier for `action` is full. */
  passBarrier(action: string): Promise<void> {
    const barrier = this.#barriers.get(action);
    if (barrier === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      barrier.waiting.push(resolve);
      if (barrier.waiting.length < barrier.parties) return;
      this.#barriers.delete(action);
      for (const release of barrier.waiting) release();
    });
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
