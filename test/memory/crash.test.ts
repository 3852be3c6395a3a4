import assert from "node:assert/strict";
import { watch } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { MemoryLockTimeoutError } from "../../agent/memory/errors.ts";
import { openMemoryStore } from "../../agent/memory/store.ts";
import { withTempDir } from "../helpers/cli.ts";
import { startWorker } from "./spawn.ts";

const BIG = 4 * 1024 * 1024;
const STALE_MS = 4_000;

describe("memory survives writers that die", () => {
  it("a writer SIGKILLed in the middle of large writes leaves the old or the new content, never a part; the next writer waits no longer than the stale bound", async () => {
    await withTempDir(async (root) => {
      let interrupted = 0;
      const leftovers = new Set<string>();
      const rounds = 4;
      for (let round = 0; round < rounds; round++) {
        const worker = startWorker("write-loop.ts", [root, "big.md", String(BIG)], { env: { maxBytes: 2 * BIG, lockStaleMs: STALE_MS } });
        await worker.waitFor("writing");
        if (round % 2 === 0) {
          // Kill the moment a temp file appears: inside the write, before the rename. (A writer
          // that never makes one is killed after 5 s anyway, and the checks below judge it.)
          await new Promise<void>((resolve) => {
            const kill = (): void => {
              worker.child.kill("SIGKILL");
              watcher.close();
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(kill, 5_000);
            const watcher = watch(root, (_event, name) => {
              if (name?.startsWith(".big.md.") && name.endsWith(".tmp")) kill();
            });
          });
        } else {
          await sleep(Math.random() * 40); // anywhere in the write cycle
          worker.child.kill("SIGKILL");
        }
        const { signal } = await worker.finished;
        assert.equal(signal, "SIGKILL");

        const content = await readFile(path.join(root, "big.md"), "utf8");
        assert.equal(content.length, BIG, `round ${round}: partial file of ${content.length} bytes`);
        assert.match(content.slice(0, 1), /[AB]/);
        assert.equal(content, content[0]?.repeat(BIG), `round ${round}: mixed content`);
        // A temp file left behind proves the kill landed mid-write (after its data, before the rename).
        const temps = (await readdir(root)).filter((name) => name.startsWith(".big.md.") && name.endsWith(".tmp"));
        if (temps.some((name) => !leftovers.has(name))) interrupted++;
        for (const name of temps) leftovers.add(name);

        // The dead holder was on this machine: its lock is broken at once by its pid, or, when the
        // kill landed between creating the lock file and writing its record, once the empty lock is
        // a lease old. Either way the wait stays within the stale bound.
        const next = await openMemoryStore({ root, instance: "CLAWDINATOR-9", maxBytes: 2 * BIG, lockStaleMs: STALE_MS, lockWaitMs: STALE_MS + 2_000 });
        await next.write("big.md", "C".repeat(BIG));
        assert.equal(await next.read("big.md"), "C".repeat(BIG));
        assert.deepEqual(await next.list(), ["big.md"], "stray temp files are never listed");
      }
      assert.ok(interrupted >= 1, `no kill out of ${rounds} landed mid-write; the test proved nothing`);
    });
  });

  it("a dead lock holder on another machine blocks writers only until its lease runs out", async () => {
    await withTempDir(async (root) => {
      const staleMs = 3_000; // the impatient writer below must get in before a third of it is gone
      // hostId differs: as for another NFS client, its pid cannot be checked, only its lease.
      const holder = startWorker("hold.ts", [root, "ops.md"], { env: { hostId: "another-machine", lockStaleMs: staleMs, instance: "CLAWDINATOR-7" } });
      await holder.waitFor("holding");
      holder.child.kill("SIGKILL");
      await holder.finished;

      const impatient = await openMemoryStore({ root, instance: "CLAWDINATOR-2", lockStaleMs: staleMs, lockWaitMs: 50 });
      await assert.rejects(impatient.append("ops.md", "too early"), (e: unknown) => e instanceof MemoryLockTimeoutError && e.holder?.instance === "CLAWDINATOR-7");

      // Bounded by the stale bound: the store itself throws if the wait exceeds 2 x the lease.
      const patient = await openMemoryStore({ root, instance: "CLAWDINATOR-2", lockStaleMs: staleMs, lockWaitMs: 2 * staleMs });
      await patient.append("ops.md", "after the lease");
      assert.equal(await patient.read("ops.md"), "after the lease\n");
    });
  });

  it("a live holder on another machine keeps its lock past the lease length by renewing it; once it dies, the lock is free", async () => {
    await withTempDir(async (root) => {
      const staleMs = 1_000;
      const holder = startWorker("hold.ts", [root, "ops.md"], { env: { hostId: "another-machine", lockStaleMs: staleMs, instance: "CLAWDINATOR-7" } });
      await holder.waitFor("holding");
      await sleep(2.5 * staleMs); // longer than two leases: only renewals keep it
      const waiter = await openMemoryStore({ root, instance: "CLAWDINATOR-2", lockStaleMs: staleMs, lockWaitMs: 100 });
      await assert.rejects(waiter.write("ops.md", "stolen"), (e: unknown) => e instanceof MemoryLockTimeoutError && e.holder?.instance === "CLAWDINATOR-7");
      holder.child.kill("SIGKILL");
      await holder.finished;
      const next = await openMemoryStore({ root, instance: "CLAWDINATOR-2", lockStaleMs: staleMs, lockWaitMs: 3 * staleMs });
      await next.write("ops.md", "mine now");
      assert.equal(await next.read("ops.md"), "mine now");
    });
  });

  it("a dead holder on this machine is detected at once, even with a long lease", async () => {
    await withTempDir(async (root) => {
      const holder = startWorker("hold.ts", [root, "ops.md"], { env: { lockStaleMs: 600_000, instance: "CLAWDINATOR-7" } });
      await holder.waitFor("holding");
      const waiter = await openMemoryStore({ root, instance: "CLAWDINATOR-2", lockStaleMs: 600_000, lockWaitMs: 100 });
      await assert.rejects(waiter.write("ops.md", "x"), (e: unknown) => e instanceof MemoryLockTimeoutError && e.holder?.pid === holder.child.pid);
      holder.child.kill("SIGKILL");
      await holder.finished;
      const next = await openMemoryStore({ root, instance: "CLAWDINATOR-2", lockStaleMs: 600_000, lockWaitMs: 5_000 });
      await next.write("ops.md", "free");
      assert.equal(await next.read("ops.md"), "free");
    });
  });
});
