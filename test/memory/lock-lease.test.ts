// Issue 16, part 5: a lock record cannot wedge a file forever. A lease further ahead than any honest
// holder could have written is capped at the lock file's last write plus the maximum lease.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { openMemoryStore } from "../../agent/memory/store.ts";

describe("lock leases", () => {
  it("a far-future expiresAt does not block the file past the maximum lease", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "lease-"));
    try {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1", lockStaleMs: 1_000, lockWaitMs: 3_000 });
      await store.write("ops.md", "v1");
      await mkdir(path.join(root, ".locks"), { recursive: true });
      const lock = path.join(root, ".locks", "ops.md.lock");
      const now = Date.now();
      // Another host (so no pid check applies), a lease a century long, last written a minute ago.
      await writeFile(lock, JSON.stringify({ hostId: "elsewhere", pid: 1, instance: "CLAWDINATOR-9", token: "t", path: "ops.md", acquiredAt: now - 60_000, expiresAt: now + 100 * 365 * 24 * 3600_000 }));
      await utimes(lock, new Date(now - 60_000), new Date(now - 60_000));
      await store.write("ops.md", "v2");
      assert.equal(await store.read("ops.md"), "v2");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
