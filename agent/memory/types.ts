/**
 * The hive-mind memory seam. One implementation serves both a local folder and the EFS mount
 * (the same code with another root); N instances on N machines use it concurrently.
 * Paths are relative to the memory root and name markdown or JSON files (`project.md`,
 * `daily/2026-11-24.md`, `claims/triage-123.json`).
 *
 * Failures are `MemoryError`s (agent/memory/errors.ts) with a `code`: a refused path is a
 * `MemoryPathError`, content over the size cap a `MemoryTooLargeError`, a lock held too long by a
 * live holder a `MemoryLockTimeoutError`. Nothing is written when an operation fails.
 */
export interface MemoryStore {
  readonly root: string;
  /** The file's content, or undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
  /** Replaces the file atomically: readers see the old or the new content, never a part. */
  write(path: string, content: string): Promise<void>;
  /**
   * Appends text (a trailing newline is added when missing) without losing concurrent appends, at a
   * cost that does not grow with the note: the entry is written at its end, the rest is not rewritten.
   */
  append(path: string, text: string): Promise<void>;
  /**
   * Read-modify-write under an exclusive lock that works across processes and NFS clients.
   * `fn` gets the current content ("" when missing); its result replaces the file; returns it.
   */
  edit(path: string, fn: (current: string) => string | Promise<string>): Promise<string>;
  /** Every file under the root (or under `prefix`), as sorted relative paths. */
  list(prefix?: string): Promise<string[]>;
  /**
   * Takes a lease on `key` for `ttlMs`: true for exactly one caller among all instances until
   * the lease expires; false while anyone holds it (a second call by the winner too, so work
   * claimed once is done once). Stored as `claims/<key>.json`.
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
}
