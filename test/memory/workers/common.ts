// Shared by the worker processes the memory tests spawn: each is a separate node process, so the
// store is exercised across processes exactly as N instances (or N CLI calls) would use it.
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { openMemoryStore, type FileMemoryStore } from "../../../agent/memory/store.ts";

/**
 * Store options come from MEMORY_WORKER (JSON): lockStaleMs, lockWaitMs, maxBytes, hostId,
 * clockOffsetMs, instance; `overrides` (a round's settings) win over it.
 */
export async function openWorkerStore(root: string, overrides: Record<string, unknown> = {}): Promise<FileMemoryStore> {
  const raw = { ...(JSON.parse(process.env.MEMORY_WORKER ?? "{}") as object), ...overrides } as {
    lockStaleMs?: number;
    lockWaitMs?: number;
    maxBytes?: number;
    hostId?: string;
    clockOffsetMs?: number;
    instance?: string;
  };
  const offset = raw.clockOffsetMs ?? 0;
  return openMemoryStore({
    root,
    instance: raw.instance ?? `CLAWDINATOR-${process.pid % 9000 + 1}`,
    lockStaleMs: raw.lockStaleMs,
    lockWaitMs: raw.lockWaitMs,
    maxBytes: raw.maxBytes,
    hostId: raw.hostId,
    clock: () => Date.now() + offset,
  });
}

/** Prints "ready" and resolves when the parent writes "go": a start barrier, so workers really race. */
export async function startBarrier(): Promise<void> {
  process.stdout.write("ready\n");
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === "go") break;
  }
  lines.close();
}

export function arg(index: number, name: string): string {
  const value = process.argv[index + 2];
  if (value === undefined) throw new Error(`worker: missing argument ${index + 1} (${name})`);
  return value;
}

/** COUNT increments of {"count": n} in FILE, each through store.edit (a read-modify-write under the lock). */
export async function countUp(store: FileMemoryStore, file: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await store.edit(file, (current) => {
      const n = current === "" ? 0 : (JSON.parse(current) as { count: number }).count;
      return JSON.stringify({ count: n + 1 });
    });
  }
}

/** COUNT appends of a self-checking line, "ID SEQ PAYLOAD #CHECK", PAYLOAD `payload` x's and up. */
export async function appendLines(store: FileMemoryStore, file: string, count: number, id: string, payload = 40): Promise<void> {
  for (let i = 0; i < count; i++) {
    const body = `${id} ${String(i).padStart(4, "0")} ${"x".repeat(payload + (i % 23))}`;
    await store.append(file, `${body} #${createHash("sha256").update(body).digest("hex").slice(0, 12)}`);
  }
}
