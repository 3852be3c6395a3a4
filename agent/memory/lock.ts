import { randomBytes } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { mkdir, open, readFile, rename, stat, unlink, writeFile, type FileHandle } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { MemoryLockLostError, MemoryLockTimeoutError, type LockHolderInfo } from "./errors.ts";
import { tempPathFor } from "./atomic.ts";

/**
 * An exclusive lock that works between processes on one machine and between NFSv4.1 clients
 * (EFS), built from operations the NFS server performs atomically: exclusive create (O_EXCL,
 * fails with EEXIST when the lock exists), rename(2) and unlink(2). docs/SHARED_MEMORY.md says
 * why this and not flock/fcntl.
 *
 * A lock file records its holder and a lease (`expiresAt`). The holder renews the lease every
 * third of `staleMs` while it works, so a live holder is never taken for dead however long its
 * edit runs. A waiter breaks a lock when its lease has run out, or at once when the holder was a
 * process of this same machine (same boot and pid namespace) that no longer exists. Breaking happens
 * under a second, short-lived guard file, so two waiters that both saw the same dead holder cannot
 * remove each other's fresh lock.
 */

/** Who holds a lock. `hostId` says whether two pids can be compared (same kernel boot, same pid namespace). */
export interface LockOwner {
  readonly instance: string;
  readonly host: string;
  readonly hostId: string;
  readonly pid: number;
}

export interface LockSettings {
  /** Lease length: a holder that stops renewing is considered dead this long after its last renewal. */
  readonly staleMs: number;
  /** How long to wait for a live holder before giving up with MemoryLockTimeoutError. */
  readonly waitMs: number;
  /** Epoch milliseconds; leases are compared on it. Waiting itself uses the monotonic clock. */
  readonly clock: () => number;
  readonly owner: LockOwner;
}

/**
 * What a holder does under the lock. Readers take no lock, but one that finds a note's last line
 * unfinished needs to know whether an append is being written right now (store.ts `read`).
 */
export type LockOperation = "change" | "append";

interface LockRecord extends LockOwner {
  /** Absent in records written before it existed: read as "change". */
  readonly operation?: LockOperation;
  readonly token: string;
  /** The memory path the lock protects, for people reading `.locks/`. */
  readonly path: string;
  readonly acquiredAt: number;
  readonly expiresAt: number;
}

/**
 * What a lock file holds. An `unreadable` one (empty: its holder is between create and write, or died
 * there; or damaged) carries its `identity` (inode, size, change and modify times), so a waiter can
 * tell the same file from a new one.
 */
type ReadResult =
  | { kind: "missing" }
  | { kind: "record"; record: LockRecord; mtimeMs: number }
  | { kind: "unreadable"; identity: string };

/**
 * How long this waiter has itself watched each unreadable lock file, unchanged, on its monotonic
 * clock. An unreadable file has no lease to read, and its mtime comes from the clock of whoever
 * stamped it (the NFS server), so comparing that with our clock would let any skew, or a clock
 * offset in a test, make a lock created a microsecond ago look a lease old.
 */
class UnreadableWatch {
  readonly #firstSeen = new Map<string, number>();

  /** Milliseconds since this waiter first saw the file with this identity. */
  ageOf(identity: string): number {
    const now = performance.now();
    const seen = this.#firstSeen.get(identity);
    if (seen !== undefined) return now - seen;
    if (this.#firstSeen.size >= 16) this.#firstSeen.clear(); // a few at a time in practice
    this.#firstSeen.set(identity, now);
    return 0;
  }
}

// Polling is the only way to wait that works across NFS clients. Short first polls keep hand-over
// fast under contention; the cap keeps idle waiters cheap for the server.
const FIRST_POLL_MS = 0.5;
const MAX_POLL_MS = 8;
/** How often a waiter reads the lock file to see who holds it and whether they are dead. */
const INSPECT_EVERY_MS = 50;

/** This process as a lock owner. `hostId` is the kernel boot id plus the pid namespace (Linux). */
export function localLockOwner(instance: string): LockOwner {
  return { instance, host: hostname(), hostId: localHostId(), pid: process.pid };
}

let cachedHostId: string | undefined;
function localHostId(): string {
  if (cachedHostId === undefined) {
    try {
      const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
      const pidNamespace = readlinkSync("/proc/self/ns/pid");
      cachedHostId = `${boot}/${pidNamespace}`;
    } catch {
      // No procfs: pids can't be safely compared, so only lease expiry breaks locks.
      cachedHostId = `${hostname()}/${randomBytes(8).toString("hex")}`;
    }
  }
  return cachedHostId;
}

/** A lock this process holds. Release it in a `finally`; `assertHeld` right before committing. */
export class HeldLock {
  readonly #file: string;
  readonly #label: string;
  readonly #settings: LockSettings;
  #record: LockRecord;
  #lostReason: string | undefined;
  #released = false;
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> = Promise.resolve();

  constructor(file: string, label: string, settings: LockSettings, record: LockRecord) {
    this.#file = file;
    this.#label = label;
    this.#settings = settings;
    this.#record = record;
    this.#scheduleRenewal();
  }

  /**
   * Throws MemoryLockLostError unless this process still holds the lock with a comfortable margin
   * of lease left (a fifth of it: room for clock skew between hosts). Costs no I/O.
   */
  assertHeld(): void {
    if (this.#lostReason) throw new MemoryLockLostError(this.#label, this.#lostReason);
    const margin = this.#settings.staleMs / 5;
    if (this.#settings.clock() > this.#record.expiresAt - margin) {
      throw new MemoryLockLostError(this.#label, "its lease ran out while the process was stalled");
    }
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#timer);
    await this.#renewing;
    // While our lease is comfortably alive nobody may break the lock, so it is still ours. Past
    // that, check first: never remove a lock someone else took over after our lease ran out.
    const leaseAlive = !this.#lostReason && this.#settings.clock() < this.#record.expiresAt - this.#settings.staleMs / 5;
    if (!leaseAlive) {
      const current = await readLockFile(this.#file);
      if (current.kind !== "record" || current.record.token !== this.#record.token) return;
    }
    await unlinkIfPresent(this.#file);
  }

  #scheduleRenewal(): void {
    this.#timer = setTimeout(() => {
      this.#renewing = this.#renew().finally(() => {
        if (!this.#released && !this.#lostReason) this.#scheduleRenewal();
      });
    }, this.#settings.staleMs / 3);
    // A pending renewal must not keep a finished process alive; the work it protects does.
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    if (this.#released) return;
    try {
      const current = await readLockFile(this.#file);
      if (current.kind !== "record" || current.record.token !== this.#record.token) {
        this.#lostReason = "another process broke it as stale";
        return;
      }
      const renewed: LockRecord = { ...this.#record, expiresAt: this.#settings.clock() + this.#settings.staleMs };
      const temp = tempPathFor(this.#file);
      await writeFile(temp, JSON.stringify(renewed), { flag: "wx" });
      await rename(temp, this.#file);
      this.#record = renewed;
    } catch {
      // A failed renewal (I/O error, NFS hiccup) is retried on the next tick; if they keep failing,
      // assertHeld refuses to commit once the lease is nearly over.
    }
  }
}

/**
 * Waits for and takes the lock in `file`. `label` is the memory path it protects (for errors).
 * Throws MemoryLockTimeoutError after `waitMs` of a live holder.
 */
async function acquireLock(file: string, label: string, settings: LockSettings, operation: LockOperation): Promise<HeldLock> {
  const token = randomBytes(12).toString("hex");
  const started = performance.now();
  let lastHolder: LockHolderInfo | undefined;
  let lastInspected = Number.NEGATIVE_INFINITY;
  const watch = new UnreadableWatch();
  for (let attempt = 0; ; attempt++) {
    const now = settings.clock();
    const record: LockRecord = { ...settings.owner, token, path: label, operation, acquiredAt: now, expiresAt: now + settings.staleMs };
    if (await createExclusive(file, record)) return new HeldLock(file, label, settings, record);
    // Reading the holder costs more than trying to create; do it on the first miss and then a few
    // times a second, which is plenty to notice a dead holder.
    let current: ReadResult | undefined;
    if (performance.now() - lastInspected >= INSPECT_EVERY_MS) {
      lastInspected = performance.now();
      current = await readLockFile(file);
      if (current.kind === "missing") continue; // released between our attempt and our read
      if (current.kind === "record") lastHolder = holderInfo(current.record);
    }
    const waited = performance.now() - started;
    if (waited >= settings.waitMs) throw new MemoryLockTimeoutError(label, waited, lastHolder);
    if (current && isStale(current, settings, watch)) {
      await breakStaleLock(file, current, settings, watch);
      continue;
    }
    const backoff = Math.min(MAX_POLL_MS, FIRST_POLL_MS * 2 ** attempt) * (0.5 + Math.random());
    await sleep(Math.min(backoff, settings.waitMs - waited + 1));
  }
}

/** Runs `fn` holding the lock; always releases it. `operation` is recorded for readers (see LockOperation). */
export async function withLock<T>(
  file: string,
  label: string,
  settings: LockSettings,
  fn: (lock: HeldLock) => Promise<T>,
  operation: LockOperation = "change",
): Promise<T> {
  const lock = await acquireLock(file, label, settings, operation);
  let result: T;
  try {
    result = await fn(lock);
  } catch (error) {
    await lock.release().catch(() => undefined); // the first error is the one worth reporting
    throw error;
  }
  await lock.release();
  return result;
}

/**
 * True while a live holder of the lock in `file` is appending (its lease not yet run out by `now`).
 * A lock still empty counts as not appending: its holder writes its record before it does anything.
 */
export async function appendInFlight(file: string, now: number): Promise<boolean> {
  const current = await readLockFile(file).catch(() => ({ kind: "missing" }) as const);
  return current.kind === "record" && current.record.operation === "append" && current.record.expiresAt > now;
}

function isStale(current: ReadResult, settings: LockSettings, watch: UnreadableWatch): boolean {
  const now = settings.clock();
  if (current.kind === "unreadable") return watch.ageOf(current.identity) >= settings.staleMs;
  if (current.kind !== "record") return false;
  const { record } = current;
  // No honest holder writes a lease further ahead than one lease from its clock; a record that does
  // (a bug, a hand-edited file, a hostile one) is held to one lease after its file's last write.
  const expiresAt = record.expiresAt > now + 2 * settings.staleMs ? Math.min(record.expiresAt, current.mtimeMs + settings.staleMs) : record.expiresAt;
  if (expiresAt <= now) return true;
  return record.hostId === settings.owner.hostId && !processExists(record.pid);
}

/**
 * Removes a lock whose holder is dead, under a guard file so that only one waiter acts on a given
 * dead holder: the others find the guard taken, or find a different (fresh) lock once they get it.
 * A guard left by a waiter that died inside this short section is itself broken by the same rules.
 */
async function breakStaleLock(file: string, seen: ReadResult, settings: LockSettings, watch: UnreadableWatch): Promise<void> {
  const guardFile = file.replace(/\.lock$/, ".guard");
  const now = settings.clock();
  const guardRecord: LockRecord = { ...settings.owner, token: randomBytes(12).toString("hex"), path: guardFile, acquiredAt: now, expiresAt: now + settings.staleMs };
  if (!(await createExclusive(guardFile, guardRecord))) {
    const guard = await readLockFile(guardFile);
    // Accepted residual risk (docs/SHARED_MEMORY.md): two waiters clearing the same dead guard.
    if (isStale(guard, settings, watch)) await unlinkIfPresent(guardFile);
    else await sleep(FIRST_POLL_MS * (1 + Math.random()));
    return;
  }
  try {
    const current = await readLockFile(file);
    const sameHolder =
      (current.kind === "record" && seen.kind === "record" && current.record.token === seen.record.token) ||
      (current.kind === "unreadable" && seen.kind === "unreadable" && current.identity === seen.identity);
    if (sameHolder && isStale(current, settings, watch)) await unlinkIfPresent(file);
  } finally {
    await unlinkIfPresent(guardFile);
  }
}

async function readLockFile(file: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    throw error;
  }
  try {
    const record = JSON.parse(text) as LockRecord;
    if (typeof record.token === "string" && typeof record.expiresAt === "number" && typeof record.pid === "number") {
      const stats = await stat(file).catch(() => undefined);
      return stats ? { kind: "record", record, mtimeMs: stats.mtimeMs } : { kind: "missing" };
    }
  } catch {
    // fall through: not ours, or damaged
  }
  // Nanosecond times: a new empty lock that reuses a freed inode number still differs from the old one.
  const stats = await stat(file, { bigint: true }).catch(() => undefined);
  return stats ? { kind: "unreadable", identity: `${stats.ino}:${stats.size}:${stats.ctimeNs}:${stats.mtimeNs}` } : { kind: "missing" };
}

/**
 * Creates `file` holding `record` unless it exists: true when this call created it. O_EXCL create
 * is atomic on local file systems and on NFSv4.1 (exactly-once through the session). A reader may
 * catch the file empty for an instant, which counts as held (see isStale). A holder killed between
 * the create and the write leaves an empty lock with no pid to check: it is broken once a waiter has
 * watched it unchanged for a lease (UnreadableWatch), so the stale bound still holds. (Writing the
 * record to a temp file and link(2)-ing it into place closes that window but cost a fifth of the
 * edit rate in bench/memory.ts; the window is two system calls wide.)
 */
async function createExclusive(file: string, record: LockRecord, folderMade = false): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(file, "wx");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "ENOENT" || folderMade) throw error;
    // The locks folder sits directly in the (existing) memory root: one level to create.
    await mkdir(path.dirname(file)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "EEXIST") throw e;
    });
    return createExclusive(file, record, true);
  }
  try {
    await handle.writeFile(JSON.stringify(record));
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlinkIfPresent(file);
    throw error;
  }
  return true;
}

async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

function holderInfo(record: LockRecord): LockHolderInfo {
  return { instance: record.instance, host: record.host, pid: record.pid, expiresAt: record.expiresAt };
}
