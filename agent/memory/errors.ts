/**
 * Errors of the hive-mind memory. Callers branch on the class or on `code`, never on the message;
 * the message names the path and says what to do instead, because it may reach an operator, a
 * maintainer on Discord or the model itself.
 */

export type MemoryErrorCode =
  /** The path is empty, has an empty/`.`/hidden segment, a backslash or a control or invisible character. */
  | "MEMORY_PATH_INVALID"
  /** A name over 200 UTF-8 bytes, or a whole path over 512. */
  | "MEMORY_PATH_TOO_LONG"
  /** A name not in Unicode NFKC form, or a word mixing Latin with lookalike letters of another script. */
  | "MEMORY_PATH_CONFUSABLE"
  | "MEMORY_PATH_ABSOLUTE"
  | "MEMORY_PATH_TRAVERSAL"
  /** Only `.md` and `.json` files live in memory. */
  | "MEMORY_PATH_EXTENSION"
  /** The path, or a folder on the way, is a symlink that resolves outside the memory root. */
  | "MEMORY_PATH_SYMLINK_ESCAPE"
  /** The path names a folder (or something else that is not a regular file). */
  | "MEMORY_PATH_NOT_A_FILE"
  | "MEMORY_TOO_LARGE"
  | "MEMORY_CONTENT_INVALID"
  | "MEMORY_CLAIM_INVALID"
  | "MEMORY_LOCK_TIMEOUT"
  | "MEMORY_LOCK_LOST"
  | "MEMORY_OPTION_INVALID"
  /** The memory root cannot be created or is not a folder. */
  | "MEMORY_ROOT_INVALID"
  /** The templates folder for seeding is missing or holds a name memory refuses. */
  | "MEMORY_SEED_INVALID";

export interface MemoryErrorDetails {
  /** The memory path (relative to the root) the operation was about, when there is one. */
  readonly path?: string;
  /** What to do instead; appended to the message. */
  readonly fix: string;
  readonly cause?: unknown;
}

/** Base class of every memory error. `name` carries the code: `MemoryError[MEMORY_TOO_LARGE]`. */
export class MemoryError extends Error {
  readonly code: MemoryErrorCode;
  readonly path: string | undefined;
  /** What is wrong, without the fix (the message is `${problem}. ${fix}`). */
  readonly problem: string;
  readonly fix: string;

  constructor(code: MemoryErrorCode, problem: string, details: MemoryErrorDetails) {
    super(`${problem}. ${details.fix}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = `${new.target.name}[${code}]`;
    this.code = code;
    this.path = details.path;
    this.problem = problem;
    this.fix = details.fix;
  }
}

/** A path the store refuses: absolute, `..`, a symlink out of the root, a wrong extension, a folder. */
export class MemoryPathError extends MemoryError {}

/** Content over the store's `maxBytes`. Nothing was written. */
export class MemoryTooLargeError extends MemoryError {
  readonly bytes: number;
  readonly limit: number;

  constructor(path: string, bytes: number, limit: number) {
    super("MEMORY_TOO_LARGE", `"${path}" would be ${bytes} bytes, over the memory limit of ${limit} bytes; nothing was written`, {
      path,
      fix: "Split it into several files, or summarise older entries first (the limit is the store's maxBytes option).",
    });
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** Who held a lock when we gave up waiting for it (as recorded in its lock file). */
export interface LockHolderInfo {
  readonly instance: string;
  readonly host: string;
  readonly pid: number;
  /** Epoch ms when the holder's lease runs out unless it renews it. */
  readonly expiresAt: number;
}

/** The lock on a memory file stayed taken, by a live holder, for longer than the store's `lockWaitMs`. */
export class MemoryLockTimeoutError extends MemoryError {
  readonly waitedMs: number;
  readonly holder: LockHolderInfo | undefined;

  constructor(path: string, waitedMs: number, holder: LockHolderInfo | undefined) {
    const by = holder ? ` (held by ${holder.instance}, pid ${holder.pid} on ${holder.host})` : "";
    super("MEMORY_LOCK_TIMEOUT", `gave up waiting for the lock on "${path}" after ${Math.round(waitedMs)} ms${by}; nothing was written`, {
      path,
      fix: "Try again. If it keeps happening, find the holder above: a dead holder's lock is broken automatically once its lease (lockStaleMs) runs out.",
    });
    this.waitedMs = waitedMs;
    this.holder = holder;
  }
}

/**
 * Our lease on a lock ran out or was taken over before we committed (the process stalled for longer
 * than `lockStaleMs`). The change was not committed, so nobody's update is lost.
 */
export class MemoryLockLostError extends MemoryError {
  constructor(path: string, reason: string) {
    super("MEMORY_LOCK_LOST", `lost the lock on "${path}" before committing (${reason}); nothing was written`, {
      path,
      fix: "Retry the operation. If the process is regularly stalled this long, raise lockStaleMs.",
    });
  }
}
