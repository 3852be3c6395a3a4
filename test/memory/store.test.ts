import assert from "node:assert/strict";
import { mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { MemoryError, MemoryLockLostError, MemoryLockTimeoutError, MemoryPathError, MemoryTooLargeError, type MemoryErrorCode } from "../../agent/memory/errors.ts";
import { MEMORY_DEFAULTS } from "../../agent/memory/defaults.ts";
import { FileMemoryStore, openMemoryStore } from "../../agent/memory/store.ts";
import { withTempDir } from "../helpers/cli.ts";

/** Every entry under `dir`, hidden ones included, with sizes: "nothing written" means this is unchanged. */
async function snapshot(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const rows = await Promise.all(
    entries.map(async (e) => {
      const full = path.join(e.parentPath, e.name);
      const size = e.isFile() ? (await stat(full)).size : "-";
      return `${path.relative(dir, full)}:${size}`;
    }),
  );
  return rows.sort();
}

/** Two sibling folders: the memory root and "outside", which must never be touched. */
async function withRoots(fn: (root: string, outside: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "memory");
    const outside = path.join(dir, "outside");
    await mkdir(root);
    await mkdir(outside);
    await fn(root, outside);
  });
}

describe("FileMemoryStore basics", () => {
  it("writes, reads, appends, edits and lists; a missing file reads as undefined", async () => {
    await withRoots(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      assert.equal(await store.read("ops.md"), undefined);
      await store.write("ops.md", "# Ops\nfirst");
      await store.append("ops.md", "- second");
      await store.append("ops.md", "- third\n");
      assert.equal(await store.read("ops.md"), "# Ops\nfirst\n- second\n- third\n");
      const edited = await store.edit("ops.md", (text) => text.replace("first", "FIRST"));
      assert.equal(edited, "# Ops\nFIRST\n- second\n- third\n");
      assert.equal(await readFile(path.join(root, "ops.md"), "utf8"), edited);
      assert.equal(await store.edit("new/deep/note.md", (text) => `${text}created`), "created");
      await store.write("claims-like.json", '{"a":1}');
      assert.deepEqual(await store.list(), ["claims-like.json", "new/deep/note.md", "ops.md"]);
      assert.deepEqual(await store.list("new"), ["new/deep/note.md"]);
      assert.deepEqual(await store.list("nothing-here"), []);
    });
  });

  it("lists only markdown and JSON files, never its own lock and temp files", async () => {
    await withRoots(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      await store.write("a.md", "a");
      await writeFile(path.join(root, "stray.txt"), "not memory");
      await writeFile(path.join(root, ".a.md.0123.tmp"), "left by a crash");
      assert.ok((await readdir(root)).includes(".locks"));
      assert.deepEqual(await store.list(), ["a.md"]);
    });
  });

  it("sweepExpiredClaims removes claims a week past their expiry, under their lock, and nothing else", async () => {
    await withRoots(async (root) => {
      let now = Date.parse("2026-12-01T00:00:00Z");
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1", clock: () => now });
      assert.deepEqual(await store.sweepExpiredClaims(), [], "no claims folder yet: nothing to do");
      const day = 24 * 3_600_000;
      assert.ok(await store.claim("posted-long-ago", 3_600_000));
      now += 3 * day;
      assert.ok(await store.claim("expired-yesterday", 3_600_000));
      await store.write("claims/damaged.json", "{}");
      now += day;
      assert.ok(await store.claim("live", 30 * day));
      now += 5 * day; // posted-long-ago expired 9 days ago, expired-yesterday 6 days ago
      assert.deepEqual(await store.sweepExpiredClaims(), ["claims/posted-long-ago.json"]);
      assert.deepEqual(await store.list("claims"), ["claims/damaged.json", "claims/expired-yesterday.json", "claims/live.json"]);
      assert.equal(await store.claim("live", 3_600_000), false, "a live claim is untouched");
      assert.ok(await store.claim("posted-long-ago", 3_600_000), "a swept key can be claimed again");
    });
  });

  it("sweepLeftovers removes temp files of dead writers once they are old, and nothing else", async () => {
    await withRoots(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      await store.write("daily/2026-11-24.md", "kept");
      const old = new Date(Date.now() - 2 * 3_600_000);
      const leftovers = ["daily/.2026-11-24.md.0123456789abcdef.tmp", ".locks/.ops.md.lock.fedcba9876543210.tmp"];
      const keep = [".ops.md.aaaaaaaaaaaaaaaa.tmp", "daily/.hidden-note.md"]; // fresh, or not a temp name
      for (const file of [...leftovers, ...keep]) {
        await mkdir(path.dirname(path.join(root, file)), { recursive: true });
        await writeFile(path.join(root, file), "x");
      }
      for (const file of [...leftovers, "daily/.hidden-note.md"]) await utimes(path.join(root, file), old, old);
      assert.deepEqual(await store.sweepLeftovers(), [...leftovers].sort());
      const remaining = await snapshot(root);
      for (const file of leftovers) assert.ok(!remaining.some((row) => row.startsWith(`${file}:`)), `${file} still there`);
      for (const file of [...keep, "daily/2026-11-24.md"]) assert.ok(remaining.some((row) => row.startsWith(`${file}:`)), `${file} was removed`);
    });
  });

  it("an edit whose function throws changes nothing and releases the lock", async () => {
    await withRoots(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1", lockWaitMs: 2_000 });
      await store.write("ops.md", "kept");
      await assert.rejects(store.edit("ops.md", () => { throw new Error("model said no"); }), /model said no/);
      assert.equal(await store.read("ops.md"), "kept");
      await store.append("ops.md", "next");
      assert.equal(await store.read("ops.md"), "kept\nnext\n");
    });
  });

  it("refuses bad options with MEMORY_OPTION_INVALID and an unusable root with MEMORY_ROOT_INVALID", async () => {
    await withRoots(async (root) => {
      assert.throws(() => new FileMemoryStore({ root, instance: "CLAWDINATOR-1", lockStaleMs: 0 }), (e: unknown) => e instanceof MemoryError && e.code === "MEMORY_OPTION_INVALID" && /lockStaleMs/.test(e.message));
      assert.throws(() => new FileMemoryStore({ root, instance: "" }), (e: unknown) => e instanceof MemoryError && e.code === "MEMORY_OPTION_INVALID");
      const file = path.join(root, "a-file");
      await writeFile(file, "x");
      await assert.rejects(openMemoryStore({ root: file, instance: "CLAWDINATOR-1" }), (e: unknown) => e instanceof MemoryError && e.code === "MEMORY_ROOT_INVALID" && e.message.includes("memoryDir"));
    });
  });
});

describe("FileMemoryStore refuses unsafe paths, and writes nothing", () => {
  const cases: Array<[string, MemoryErrorCode]> = [
    ["../escape.md", "MEMORY_PATH_TRAVERSAL"],
    ["daily/../../escape.md", "MEMORY_PATH_TRAVERSAL"],
    ["/etc/escape.md", "MEMORY_PATH_ABSOLUTE"],
    ["C:\\escape.md", "MEMORY_PATH_ABSOLUTE"],
    ["notes.txt", "MEMORY_PATH_EXTENSION"],
    ["script.sh", "MEMORY_PATH_EXTENSION"],
    [".locks/x.md", "MEMORY_PATH_INVALID"],
    ["a//b.md", "MEMORY_PATH_INVALID"],
    ["./a.md", "MEMORY_PATH_INVALID"],
    ["a\\..\\b.md", "MEMORY_PATH_INVALID"],
    ["nul\u0000.md", "MEMORY_PATH_INVALID"],
    ["", "MEMORY_PATH_INVALID"],
  ];
  for (const [bad, code] of cases) {
    it(`${JSON.stringify(bad)} → ${code}`, async () => {
      await withRoots(async (root, outside) => {
        const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
        await store.write("kept.md", "kept");
        const before = [await snapshot(root), await snapshot(outside), await snapshot(path.dirname(root))];
        const operations: Array<[string, () => Promise<unknown>]> = [
          ["read", () => store.read(bad)],
          ["write", () => store.write(bad, "x")],
          ["append", () => store.append(bad, "x")],
          ["edit", () => store.edit(bad, () => "x")],
        ];
        for (const [name, operation] of operations) {
          await assert.rejects(operation(), (e: unknown) => {
            assert.ok(e instanceof MemoryPathError, `${name}: ${String(e)}`);
            assert.equal(e.code, code, `${name}: ${e.message}`);
            assert.equal(e.path, bad);
            assert.ok(e.fix.length > 10 && e.message.endsWith(e.fix), "the message says what to do");
            return true;
          });
        }
        assert.deepEqual([await snapshot(root), await snapshot(outside), await snapshot(path.dirname(root))], before);
      });
    });
  }

  it("a folder symlinked out of the root is refused for every operation (MEMORY_PATH_SYMLINK_ESCAPE)", async () => {
    await withRoots(async (root, outside) => {
      await writeFile(path.join(outside, "secret.md"), "outside secret");
      await symlink(outside, path.join(root, "evil"));
      await symlink(path.join(outside, "secret.md"), path.join(root, "leak.md"));
      await symlink(path.join(outside, "not-yet.md"), path.join(root, "dangling.md"));
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      const before = [await snapshot(root), await snapshot(outside)];
      for (const target of ["evil/secret.md", "evil/new.md", "evil/deeper/new.md", "leak.md", "dangling.md"]) {
        for (const operation of [() => store.read(target), () => store.write(target, "x"), () => store.append(target, "x"), () => store.edit(target, () => "x")]) {
          await assert.rejects(operation(), (e: unknown) => e instanceof MemoryPathError && e.code === "MEMORY_PATH_SYMLINK_ESCAPE" && e.path === target);
        }
      }
      await assert.rejects(store.list("evil"), (e: unknown) => e instanceof MemoryPathError && e.code === "MEMORY_PATH_SYMLINK_ESCAPE");
      assert.deepEqual([await snapshot(root), await snapshot(outside)], before);
      assert.equal(await readFile(path.join(outside, "secret.md"), "utf8"), "outside secret");
    });
  });

  it("a symlink that stays inside the root is followed", async () => {
    await withRoots(async (root) => {
      await mkdir(path.join(root, "real"));
      await symlink(path.join(root, "real"), path.join(root, "alias"));
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      await store.write("alias/x.md", "through the alias");
      assert.equal(await readFile(path.join(root, "real/x.md"), "utf8"), "through the alias");
      assert.deepEqual(await store.list("alias"), ["alias/x.md"]);

      // Both names of the file take the same lock: no lost update through an alias.
      const waiter = await openMemoryStore({ root, instance: "CLAWDINATOR-2", lockWaitMs: 100 });
      let letGo!: () => void;
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const held = store.edit("alias/x.md", (text) => {
        entered();
        return new Promise<string>((resolve) => (letGo = () => resolve(`${text}, edited`)));
      });
      await inside;
      await assert.rejects(waiter.write("real/x.md", "behind its back"), MemoryLockTimeoutError);
      letGo();
      await held;
      assert.equal(await store.read("real/x.md"), "through the alias, edited");
    });
  });

  it("a folder is not a file (MEMORY_PATH_NOT_A_FILE)", async () => {
    await withRoots(async (root) => {
      await mkdir(path.join(root, "dir.md"));
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      await assert.rejects(store.read("dir.md"), (e: unknown) => e instanceof MemoryPathError && e.code === "MEMORY_PATH_NOT_A_FILE");
      await assert.rejects(store.write("dir.md", "x"), (e: unknown) => e instanceof MemoryPathError && e.code === "MEMORY_PATH_NOT_A_FILE");
    });
  });
});

describe("FileMemoryStore refuses oversized and malformed content, and writes nothing", () => {
  it(`defaults to a ${MEMORY_DEFAULTS.maxBytes}-byte cap, and refuses one byte over it`, async () => {
    await withRoots(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      assert.equal(store.maxBytes, 1_048_576);
      await store.write("big.md", "x".repeat(MEMORY_DEFAULTS.maxBytes));
      await assert.rejects(store.write("big.md", "y".repeat(MEMORY_DEFAULTS.maxBytes + 1)), MemoryTooLargeError);
      assert.equal(await readFile(path.join(root, "big.md"), "utf8"), "x".repeat(MEMORY_DEFAULTS.maxBytes));
    });
  });

  it("write, append and edit over maxBytes are refused with the sizes, the file and folder untouched", async () => {
    await withRoots(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1", maxBytes: 100 });
      await store.write("ops.md", "a".repeat(90));
      const before = await snapshot(root);
      const tooLarge = (bytes: number) => (e: unknown) => {
        assert.ok(e instanceof MemoryTooLargeError, String(e));
        assert.equal(e.code, "MEMORY_TOO_LARGE");
        assert.equal(e.path, "ops.md");
        assert.equal(e.bytes, bytes);
        assert.equal(e.limit, 100);
        assert.match(e.message, /"ops\.md" would be \d+ bytes, over the memory limit of 100 bytes; nothing was written/);
        return true;
      };
      await assert.rejects(store.write("ops.md", "é".repeat(51)), tooLarge(102)); // bytes, not characters
      await assert.rejects(store.write("new.md", "b".repeat(101)), (e: unknown) => e instanceof MemoryTooLargeError && e.path === "new.md");
      await assert.rejects(store.append("ops.md", "c".repeat(20)), tooLarge(112)); // 90 + "\n" + 20 + "\n"
      await assert.rejects(store.edit("ops.md", (t) => t + t), tooLarge(180));
      assert.deepEqual(await snapshot(root), before);
      assert.equal(await store.read("ops.md"), "a".repeat(90));
    });
  });

  it("a .json file only ever holds JSON: invalid JSON and appends are refused (MEMORY_CONTENT_INVALID)", async () => {
    await withRoots(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      await store.write("state.json", '{"ok":true}');
      const invalid = (e: unknown) => e instanceof MemoryError && e.code === "MEMORY_CONTENT_INVALID" && e.path === "state.json";
      await assert.rejects(store.write("state.json", "{oops"), invalid);
      await assert.rejects(store.edit("state.json", () => "not json"), invalid);
      await assert.rejects(store.append("state.json", "more"), invalid);
      await assert.rejects(store.write("x.md", 42 as unknown as string), (e: unknown) => e instanceof MemoryError && e.code === "MEMORY_CONTENT_INVALID");
      assert.equal(await store.read("state.json"), '{"ok":true}');
    });
  });

  it("claim keys that are not plain names and TTLs that are not positive are refused (MEMORY_CLAIM_INVALID)", async () => {
    await withRoots(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      for (const key of ["../escape", "a/b", ".hidden", "", "x".repeat(200)]) {
        await assert.rejects(store.claim(key, 1000), (e: unknown) => e instanceof MemoryError && e.code === "MEMORY_CLAIM_INVALID");
      }
      for (const ttl of [0, -1, 1.5, Number.NaN]) {
        await assert.rejects(store.claim("ok", ttl), (e: unknown) => e instanceof MemoryError && e.code === "MEMORY_CLAIM_INVALID");
      }
      assert.deepEqual(await store.list(), []);
    });
  });
});

describe("FileMemoryStore locking within one process", () => {
  it("a live holder makes others wait, then fail with MemoryLockTimeoutError naming the holder; nothing written", async () => {
    await withRoots(async (root) => {
      const holder = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      const waiter = await openMemoryStore({ root, instance: "CLAWDINATOR-2", lockWaitMs: 150 });
      await holder.write("ops.md", "original");
      let letGo!: () => void;
      const holding = new Promise<void>((resolve) => (letGo = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const held = holder.edit("ops.md", async (text) => {
        entered();
        await holding;
        return `${text} + holder`;
      });
      await inside;
      await assert.rejects(waiter.write("ops.md", "waiter"), (e: unknown) => {
        assert.ok(e instanceof MemoryLockTimeoutError, String(e));
        assert.equal(e.code, "MEMORY_LOCK_TIMEOUT");
        assert.equal(e.holder?.instance, "CLAWDINATOR-1");
        assert.equal(e.holder?.pid, process.pid);
        assert.ok(e.waitedMs >= 150);
        assert.match(e.message, /"ops\.md".*held by CLAWDINATOR-1/);
        return true;
      });
      letGo();
      await held;
      assert.equal(await holder.read("ops.md"), "original + holder");
      await waiter.append("ops.md", "then the waiter");
      assert.equal(await holder.read("ops.md"), "original + holder\nthen the waiter\n");
    });
  });

  it("a holder whose lease ran out (the process stalled) does not commit: MemoryLockLostError, file unchanged", async () => {
    await withRoots(async (root) => {
      let now = Date.now();
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1", lockStaleMs: 1_000, clock: () => now });
      await store.write("ops.md", "before");
      await assert.rejects(
        store.edit("ops.md", (text) => {
          now += 5_000; // the clock jumps past the lease, as after a long stall
          return `${text} after`;
        }),
        (e: unknown) => e instanceof MemoryLockLostError && e.code === "MEMORY_LOCK_LOST" && e.path === "ops.md",
      );
      assert.equal(await store.read("ops.md"), "before");
      assert.deepEqual((await readdir(root)).filter((n) => n.endsWith(".tmp")), []);
    });
  });
});
