/**
 * The memory store's tunables, in one place: the store's defaults and the config schema's
 * (`memory.*`) both read them, so no prose or second file repeats the numbers.
 */
export const MEMORY_DEFAULTS = {
  /** Lock lease (ms); far above the clock skew between NTP-synced hosts, short enough to recover fast. */
  lockStaleMs: 10_000,
  /** Bounded wait for a live lock holder (ms). */
  lockWaitMs: 30_000,
  /** 1 MiB: a memory file is a note, not a data set; write and edit rewrite the whole file. */
  maxBytes: 1_048_576,
  clock: (): number => Date.now(),
} as const;
