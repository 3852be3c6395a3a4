// Issue 16, part 5: two processes once both won one claim after its TTL (concurrency.test.ts).
// Cause: a lock file is created empty (O_EXCL) and its record written a moment later. A waiter that
// read it in between judged its age by the file's mtime against its own clock; a clock ahead of the
// file's (the test's clock offset, or skew between an instance and the NFS server that stamps mtime)
// made a lock created a microsecond ago look a lease old, so the waiter broke it, and both held it.
import assert from "node:assert/strict";
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { MemoryLockTimeoutError } from "../../agent/memory/errors.ts";
import { openMemoryStore } from "../../agent/memory/store.ts";
import { withTempDir } from "../helpers/cli.ts";

describe("taking over a lock whose holder may be dead", () => {
  it("a lock file that is still empty (its holder between create and write) is not broken because the waiter's clock runs ahead", async () => {
    await withTempDir(async (root) => {
      // A waiter whose clock runs a minute ahead of the file system's, as the claim test's workers do.
      const waiter = await openMemoryStore({ root, instance: "CLAWDINATOR-2", lockStaleMs: 1_000, lockWaitMs: 400, clock: () => Date.now() + 61_000 });
      await mkdir(path.join(root, ".locks"));
      const lock = path.join(root, ".locks", "ops.md.lock");
      await writeFile(lock, ""); // created this instant by a holder that has not written its record yet
      await assert.rejects(waiter.write("ops.md", "waiter"), MemoryLockTimeoutError);
      assert.equal((await stat(lock)).size, 0, "the holder's lock is still there");
      assert.equal(await waiter.read("ops.md"), undefined);
    });
  });

  it("an empty lock whose holder died is broken once the waiter has seen it unchanged for a lease, whatever the clocks say", async () => {
    await withTempDir(async (root) => {
      // A clock far behind: judged by mtime, this lock would look fresh for a minute.
      const waiter = await openMemoryStore({ root, instance: "CLAWDINATOR-2", lockStaleMs: 500, lockWaitMs: 5_000, clock: () => Date.now() - 60_000 });
      await mkdir(path.join(root, ".locks"));
      await writeFile(path.join(root, ".locks", "ops.md.lock"), "");
      const started = performance.now();
      await waiter.write("ops.md", "waiter");
      const waited = performance.now() - started;
      assert.ok(waited >= 450 && waited < 3_000, `waited ${Math.round(waited)} ms for a 500 ms lease`);
      assert.equal(await waiter.read("ops.md"), "waiter");
    });
  });
});
