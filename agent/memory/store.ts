import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, realpath, stat, unlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import path from "node:path";
import { errorCode } from "../config/errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { MEMORY_DEFAULTS } from "./defaults.ts";
import { MemoryError, MemoryPathError, MemoryTooLargeError } from "./errors.ts";
import { appendEntry, openForAppend } from "./append.ts";
import { appendInFlight, localLockOwner, withLock, type HeldLock, type LockSettings } from "./lock.ts";
import { checkMemoryPath, describeName, MEMORY_EXTENSIONS, resolveInsideRoot } from "./paths.ts";
import type { MemoryStore } from "./types.ts";

export interface MemoryStoreOptions {
  /** Folder that holds the memory: a local directory, or the EFS mount on an instance. Created when missing. */
  readonly root: string;
  /** This instance's name (`CLAWDINATOR-2`), recorded in lock files and claims. */
  readonly instance: string;
  /**
   * Lock lease: a holder that stops renewing (killed, host gone) is considered dead this long after
   * its last renewal; a dead holder on the same machine is detected at once. Keep it well above
   * the clock skew between hosts.
   * @default 10_000
   */
  readonly lockStaleMs?: number;
  /**
   * How long an operation waits for a live lock holder before failing with MemoryLockTimeoutError.
   * @default 30_000
   */
  readonly lockWaitMs?: number;
  /**
   * Largest file (UTF-8 bytes) that write, append or edit will produce; bigger is refused, nothing written.
   * @default 1_048_576 (1 MiB)
   */
  readonly maxBytes?: number;
  /** Epoch milliseconds for leases and claims. @default Date.now */
  readonly clock?: () => number;
  /**
   * Which pids this process can check for liveness: processes with the same `hostId` share a pid
   * namespace. @default the kernel boot id plus the pid namespace. Tests set another value to act
   * as a different NFS client, whose dead locks only expire by lease.
   */
  readonly hostId?: string;
}

// The compiler checks that every tunable option has its default.
MEMORY_DEFAULTS satisfies Required<Pick<MemoryStoreOptions, "lockStaleMs" | "lockWaitMs" | "maxBytes" | "clock">>;

/** The folder inside the root that holds lock files; hidden, so it is never listed or addressable. */
const LOCKS_FOLDER = ".locks";

const CLAIM_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The names atomic.ts gives its temp files. */
const TEMP_FILE = /^\..+\.[0-9a-f]{16}\.tmp$/;
/** A temp file this old belongs to a writer that died: writes take milliseconds. */
const LEFTOVER_AGE_MS = 3_600_000;
/** How long past its expiry a claim stays: long enough to read who held it when a post is questioned. */
const EXPIRED_CLAIM_GRACE_MS = 7 * 24 * 3600 * 1000;
const MAX_CLAIM_TTL_MS = 366 * 24 * 3600 * 1000;
/**
 * How long a reader waits for an append in flight to finish its last line: a write takes
 * microseconds; this only runs out when an appender died mid-write and its lock is not broken yet.
 */
const TORN_READ_WAIT_MS = 1_000;

/** What `claims/<key>.json` holds. */
export interface ClaimRecord {
  readonly key: string;
  readonly instance: string;
  readonly host: string;
  readonly pid: number;
  readonly claimedAt: string;
  /** Epoch ms after which another instance may take the key. */
  readonly expiresAt: number;
}

/**
 * The hive-mind memory on a file system: a local folder or the EFS mount, the same code. Every
 * change happens under a per-file lock (lock.ts). Write, edit and claim are a read-modify-write
 * committed by an atomic replace (atomic.ts); append is one O_APPEND write at the note's end
 * (append.ts), so its cost does not grow with the note. Reads take no lock and see whole files, and
 * whole lines of a note being appended to.
 */
export class FileMemoryStore implements MemoryStore {
  readonly root: string;
  readonly instance: string;
  readonly maxBytes: number;
  readonly #lock: LockSettings;
  readonly #clock: () => number;
  #realRoot: Promise<string> | undefined;

  constructor(options: MemoryStoreOptions) {
    if (typeof options.root !== "string" || options.root.trim() === "") {
      throw optionError("root", options.root, 'a folder path, e.g. "/var/lib/clawd/memory"');
    }
    if (typeof options.instance !== "string" || options.instance.trim() === "") {
      throw optionError("instance", options.instance, 'the instance name, e.g. "CLAWDINATOR-1"');
    }
    const lockStaleMs = positiveInteger("lockStaleMs", options.lockStaleMs ?? MEMORY_DEFAULTS.lockStaleMs);
    const lockWaitMs = positiveInteger("lockWaitMs", options.lockWaitMs ?? MEMORY_DEFAULTS.lockWaitMs);
    this.root = path.resolve(options.root);
    this.instance = options.instance;
    this.maxBytes = positiveInteger("maxBytes", options.maxBytes ?? MEMORY_DEFAULTS.maxBytes);
    this.#clock = options.clock ?? MEMORY_DEFAULTS.clock;
    const owner = localLockOwner(options.instance);
    this.#lock = {
      staleMs: lockStaleMs,
      waitMs: lockWaitMs,
      clock: this.#clock,
      owner: options.hostId === undefined ? owner : { ...owner, hostId: options.hostId },
    };
  }

  /** Creates the root when missing and resolves it; called by openMemoryStore and by the first operation. */
  ready(): Promise<string> {
    this.#realRoot ??= prepareRoot(this.root);
    return this.#realRoot;
  }

  async read(memoryPath: string): Promise<string | undefined> {
    const checked = checkMemoryPath(memoryPath);
    const realRoot = await this.ready();
    const file = await this.#resolve(checked);
    let content = await readIfPresent(file);
    // An append is one write() at the end of the note, under the lock, but a reader on another CPU or
    // NFS client can still catch it half-copied (Linux copies a write page by page and the size grows
    // with each page). Every entry ends in "\n", so an unfinished last line is either an append in
    // flight or a note that simply does not end in a newline. While the lock holder is appending,
    // read again. Once nobody is: if a second read gives the same text, no append was in flight
    // during the first (it would have finished, and changed the text, before the lock was free).
    // JSON files are never appended to (append refuses them), so they never need the second look.
    const deadline = performance.now() + (checked.endsWith(".json") ? 0 : TORN_READ_WAIT_MS);
    while (content && !content.endsWith("\n") && performance.now() < deadline) {
      const appending = await appendInFlight(this.#lockFile(realRoot, file), this.#clock());
      if (appending) await sleep(1);
      const again = await readIfPresent(file);
      if (!appending && again === content) break;
      content = again;
    }
    return content;
  }

  async write(memoryPath: string, content: string): Promise<void> {
    const checked = checkMemoryPath(memoryPath);
    this.#checkContent(checked, content);
    await this.#change(checked, () => content, { readCurrent: false });
  }

  async append(memoryPath: string, text: string): Promise<void> {
    const checked = checkMemoryPath(memoryPath);
    if (checked.endsWith(".json")) {
      throw new MemoryError("MEMORY_CONTENT_INVALID", `"${checked}" is JSON, and appending text would break it`, {
        path: checked,
        fix: "Use edit to change a JSON file, or append to a markdown file.",
      });
    }
    if (typeof text !== "string") throw contentTypeError(checked);
    const entry = text.endsWith("\n") ? text : `${text}\n`;
    this.#checkSize(checked, entry);
    const realRoot = await this.ready();
    const file = await this.#resolve(checked);
    await withLock(this.#lockFile(realRoot, file), checked, this.#lock, async (lock) => {
      const handle = await openForAppend(file, checked);
      if (handle === undefined) {
        await this.#commit(file, entry, lock); // a new note is created whole, like any new file
        return;
      }
      try {
        const stats = await handle.stat();
        if (!stats.isFile()) throw notAFileError(checked);
        if (stats.nlink > 1) {
          // Another name shares this inode, maybe outside the root: appending in place would change
          // that file too. Replace the note instead (the old way), which leaves the other name alone.
          const current = await handle.readFile("utf8");
          const content = (current === "" || current.endsWith("\n") ? current : `${current}\n`) + entry;
          this.#checkSize(checked, content);
          await this.#commit(file, content, lock);
          return;
        }
        await appendEntry(handle, stats.size, entry, { memoryPath: checked, maxBytes: this.maxBytes, beforeWrite: () => lock.assertHeld() });
      } finally {
        await handle.close();
      }
    }, "append");
  }

  async edit(memoryPath: string, fn: (current: string) => string | Promise<string>): Promise<string> {
    const checked = checkMemoryPath(memoryPath);
    let result = "";
    await this.#change(checked, async (current = "") => {
      result = await fn(current);
      this.#checkContent(checked, result);
      return result;
    });
    return result;
  }

  async list(prefix?: string): Promise<string[]> {
    const realRoot = await this.ready();
    const folder = prefix === undefined || prefix === "" ? "" : checkMemoryPath(prefix, { requireExtension: false });
    const start = folder === "" ? realRoot : await resolveInsideRoot(realRoot, folder, "folder");
    const found: string[] = [];
    await collectFiles(start, folder, found);
    return found.sort();
  }

  /**
   * Removes temp files left by writers that died mid-write (`.NAME.<hex>.tmp`, in any folder and in
   * `.locks/`) once they are older than `olderThanMs`: no live writer takes that long. They are
   * never listed or read, so this only reclaims space. Returns the removed files, relative to the root.
   */
  async sweepLeftovers(olderThanMs: number = LEFTOVER_AGE_MS): Promise<string[]> {
    const realRoot = await this.ready();
    const cutoff = this.#clock() - olderThanMs;
    const removed: string[] = [];
    const walk = async (folder: string, relative: string): Promise<void> => {
      const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
        const full = path.join(folder, entry.name);
        if (entry.isDirectory() && (!entry.name.startsWith(".") || entry.name === LOCKS_FOLDER)) await walk(full, child);
        else if (entry.isFile() && TEMP_FILE.test(entry.name)) {
          const stats = await stat(full).catch(() => undefined);
          if (stats && stats.mtimeMs < cutoff) {
            await unlink(full).catch(() => undefined);
            removed.push(child);
          }
        }
      }
    };
    await walk(realRoot, "");
    return removed.sort();
  }

  /**
   * Removes claims that expired more than `graceMs` ago. Without this every claimed item (each digest
   * entry, fleet-wide) left a file in `claims/` for ever. An expired claim no longer protects
   * anything (the next claimant replaces it), so removing it changes no outcome; each is re-read
   * under its own lock, so a claimant that just renewed it keeps its record. Returns the removed
   * paths.
   */
  async sweepExpiredClaims(graceMs: number = EXPIRED_CLAIM_GRACE_MS): Promise<string[]> {
    const realRoot = await this.ready();
    const removed: string[] = [];
    for (const claimPath of await this.list("claims")) {
      const file = await this.#resolve(claimPath);
      await withLock(this.#lockFile(realRoot, file), claimPath, this.#lock, async (lock) => {
        const expiresAt = claimExpiry(await readIfPresent(file));
        if (expiresAt === undefined || expiresAt + graceMs > this.#clock()) return;
        lock.assertHeld();
        await unlink(file).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== "ENOENT") throw error;
        });
        removed.push(claimPath);
      });
    }
    return removed;
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    if (typeof key !== "string" || !CLAIM_KEY.test(key)) {
      throw new MemoryError("MEMORY_CLAIM_INVALID", `claim key ${describeName(String(key))} is not usable as a file name`, {
        path: `claims/${String(key).slice(0, 128)}.json`,
        fix: 'Use letters, digits, ".", "_" and "-" (up to 128), starting with a letter or digit, e.g. "triage-openclaw-1234".',
      });
    }
    if (!Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_CLAIM_TTL_MS) {
      throw new MemoryError("MEMORY_CLAIM_INVALID", `claim TTL ${String(ttlMs)} is not a whole number of milliseconds between 1 and one year`, {
        path: `claims/${key}.json`,
        fix: "Pass how long the work may take, in ms, e.g. 3_600_000 for an hour.",
      });
    }
    const claimPath = `claims/${key}.json`;
    // Fast path without the lock: a live claim only ever gets replaced after it expires.
    if (isLiveClaim(await this.read(claimPath), this.#clock())) return false;
    let won = false;
    await this.#change(claimPath, (current) => {
      const now = this.#clock();
      if (isLiveClaim(current, now)) return current;
      won = true;
      const { instance, host, pid } = this.#lock.owner;
      const record: ClaimRecord = { key, instance, host, pid, claimedAt: new Date(now).toISOString(), expiresAt: now + ttlMs };
      return `${JSON.stringify(record, null, 2)}\n`;
    });
    return won;
  }

  /**
   * The one way any file changes: lock, read, compute, commit atomically, unlock. `next` returning
   * the current content (or undefined) writes nothing. A plain replace skips reading the old content.
   */
  async #change(
    memoryPath: string,
    next: (current: string | undefined) => string | undefined | Promise<string | undefined>,
    { readCurrent = true }: { readCurrent?: boolean } = {},
  ): Promise<void> {
    const realRoot = await this.ready();
    const file = await this.#resolve(memoryPath);
    await withLock(this.#lockFile(realRoot, file), memoryPath, this.#lock, async (lock) => {
      const current = readCurrent ? await readIfPresent(file) : undefined;
      const content = await next(current);
      if (content === undefined || content === current) return;
      this.#checkSize(memoryPath, content);
      await this.#commit(file, content, lock);
    });
  }

  /** Replaces `file` with `content` atomically (creating its folders), unless the lock was lost first. */
  async #commit(file: string, content: string, lock: HeldLock): Promise<void> {
    const commit = (): Promise<void> => writeFileAtomic(file, content, () => lock.assertHeld());
    await commit().catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
      await makeFolders(path.dirname(file)); // the first file in a new folder
      await commit();
    });
  }

  async #resolve(memoryPath: string): Promise<string> {
    return resolveInsideRoot(await this.ready(), memoryPath);
  }

  /** One lock per file: named after its canonical path, so every name of a file takes the same lock. */
  #lockFile(realRoot: string, file: string): string {
    const key = path.relative(realRoot, file).split(path.sep).join("/");
    let name = key.replaceAll("%", "%25").replaceAll("/", "%2F");
    // Counted in bytes, as NAME_MAX is (255): the renewal's temp name adds 27 to the lock's name.
    if (Buffer.byteLength(name, "utf8") > 160) name = `${prefixOfBytes(name, 120)}-${createHash("sha256").update(key).digest("hex").slice(0, 24)}`;
    return path.join(realRoot, LOCKS_FOLDER, `${name}.lock`);
  }

  #checkContent(memoryPath: string, content: unknown): asserts content is string {
    if (typeof content !== "string") throw contentTypeError(memoryPath);
    this.#checkSize(memoryPath, content);
    if (memoryPath.endsWith(".json")) {
      try {
        JSON.parse(content);
      } catch (error) {
        throw new MemoryError("MEMORY_CONTENT_INVALID", `"${memoryPath}" must hold JSON, and this is not (${(error as Error).message}); nothing was written`, {
          path: memoryPath,
          fix: "Write valid JSON to .json files, or use a .md file for prose.",
          cause: error,
        });
      }
    }
  }

  #checkSize(memoryPath: string, content: string): void {
    const bytes = Buffer.byteLength(content, "utf8");
    if (bytes > this.maxBytes) throw new MemoryTooLargeError(memoryPath, bytes, this.maxBytes);
  }
}

/** Opens (and creates when missing) the memory at `options.root`. Throws MemoryError for a bad option or root. */
export async function openMemoryStore(options: MemoryStoreOptions): Promise<FileMemoryStore> {
  const store = new FileMemoryStore(options);
  await store.ready();
  return store;
}

async function prepareRoot(root: string): Promise<string> {
  try {
    await makeFolders(root);
    const real = await realpath(root);
    if (!(await stat(real)).isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    return real;
  } catch (error) {
    throw new MemoryError("MEMORY_ROOT_INVALID", `cannot use ${root} as the memory root (${errorCode(error)})`, {
      fix: 'Point "memoryDir" in the config (or --root / CLAWDINATOR_MEMORY_DIR) at a folder this user can write, e.g. the EFS mount.',
      cause: error,
    });
  }
}

/**
 * `mkdir -p`, by hand: Node's recursive mkdir never returns for a path it can't create under some
 * pseudo file systems (`/proc/x` loops forever on Node 24), and a bad memoryDir must fail, not hang.
 */
async function makeFolders(folder: string): Promise<void> {
  try {
    await mkdir(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    const parent = path.dirname(folder);
    if (code !== "ENOENT" || parent === folder) throw error;
    await makeFolders(parent);
    try {
      await mkdir(folder);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== "EEXIST") throw again;
    }
  }
}

/** Reads a file, or undefined when it does not exist. Retries ESTALE: over NFS, a file replaced by another client between lookup and read. */
async function readIfPresent(file: string): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readFile(file, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return undefined;
      if (code === "ESTALE" && attempt < 3) continue;
      throw error;
    }
  }
}

async function collectFiles(folder: string, relative: string, found: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return;
    throw error;
  }
  for (const entry of entries) {
    // Hidden names are the store's own (locks, temp files); symlinks are not followed when listing.
    if (entry.name.startsWith(".")) continue;
    const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory()) await collectFiles(path.join(folder, entry.name), child, found);
    else if (entry.isFile() && MEMORY_EXTENSIONS.includes(path.extname(entry.name))) found.push(child);
  }
}

function isLiveClaim(content: string | undefined, now: number): content is string {
  const expiresAt = claimExpiry(content);
  return expiresAt !== undefined && expiresAt > now;
}

/** A claim's `expiresAt`; undefined for no file or a damaged one (it protects nothing; the next claimant replaces it). */
function claimExpiry(content: string | undefined): number | undefined {
  if (content === undefined) return undefined;
  try {
    const record = JSON.parse(content) as Partial<ClaimRecord>;
    return typeof record.expiresAt === "number" ? record.expiresAt : undefined;
  } catch {
    return undefined;
  }
}

/** The longest prefix of `text` that fits in `bytes` UTF-8 bytes, never cutting a character. */
function prefixOfBytes(text: string, bytes: number): string {
  let prefix = "";
  let used = 0;
  for (const point of text) {
    used += Buffer.byteLength(point, "utf8");
    if (used > bytes) break;
    prefix += point;
  }
  return prefix;
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value > 0) return value;
  throw optionError(name, value, "a whole number greater than 0");
}

function optionError(name: string, value: unknown, expected: string): MemoryError {
  return new MemoryError("MEMORY_OPTION_INVALID", `memory store option "${name}" is ${JSON.stringify(value) ?? String(value)}`, {
    fix: `Pass ${expected}.`,
  });
}

function notAFileError(memoryPath: string): MemoryPathError {
  return new MemoryPathError("MEMORY_PATH_NOT_A_FILE", `"${memoryPath}" is not a regular file`, {
    path: memoryPath,
    fix: "Name a regular file; to see a folder's files, list it (list(prefix) or `clawdinator memory ls PREFIX`).",
  });
}

function contentTypeError(memoryPath: string): MemoryError {
  return new MemoryError("MEMORY_CONTENT_INVALID", `content for "${memoryPath}" is not a string`, {
    path: memoryPath,
    fix: "Pass the file's full text as a string.",
  });
}
