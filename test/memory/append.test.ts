// Issue 16, part 5: appends keep up and lose nothing. An append used to rewrite the whole note under
// the lock, so its cost grew with the note (3,031 of 9,000 daily gists dropped at 728 KB). These tests
// prove the cost is constant by structure, not by timing: an append leaves the note's inode and every
// byte before it untouched (it is one O_APPEND write, not a rewrite), and many processes appending at
// once lose nothing while a reader never sees a torn line.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { link, mkdir, open, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { openMemoryStore } from "../../agent/memory/store.ts";
import { withTempDir } from "../helpers/cli.ts";
import { startWorker } from "./spawn.ts";

const MiB = 1_048_576;

describe("append is one write at the end of the note", () => {
  it("keeps the note's inode and every byte before the append; only the entry is added", async () => {
    await withTempDir(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1", maxBytes: 4 * MiB });
      const before = `${"- 12:00Z CLAWDINATOR-1: an old gist of the day, long enough to matter\n".repeat(14_000)}`; // ~1 MB
      await store.write("daily/2026-12-02.md", before);
      const file = path.join(root, "daily/2026-12-02.md");
      // Held open across the appends: a note replaced by a rewritten copy would leave this inode
      // unlinked (nlink 0) with the old content; one appended to in place shows the entries here.
      const held = await open(file, "r");
      try {
        for (let i = 0; i < 3; i++) await store.append("daily/2026-12-02.md", `- 12:0${i}Z CLAWDINATOR-2: new entry ${i}`);
        assert.equal((await held.stat()).nlink, 1, "the note was appended to in place, not replaced by a rewritten copy");
        const after = await held.readFile("utf8");
        assert.equal(after.slice(0, before.length), before, "the bytes before the append are untouched");
        assert.equal(after.slice(before.length), "- 12:00Z CLAWDINATOR-2: new entry 0\n- 12:01Z CLAWDINATOR-2: new entry 1\n- 12:02Z CLAWDINATOR-2: new entry 2\n");
        assert.equal(await readFile(file, "utf8"), after);
      } finally {
        await held.close();
      }
    });
  });

  it("a note that does not end in a newline gets one before the entry, in the same write; a new note is created whole", async () => {
    await withTempDir(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      await store.write("ops.md", "# Ops (no newline)");
      const held = await open(path.join(root, "ops.md"), "r");
      try {
        await store.append("ops.md", "- first");
        await store.append("ops.md", "- second\n");
        assert.equal(await store.read("ops.md"), "# Ops (no newline)\n- first\n- second\n");
        assert.equal((await held.stat()).nlink, 1, "appended in place");
      } finally {
        await held.close();
      }
      await store.append("new/folder/note.md", "- created");
      assert.equal(await store.read("new/folder/note.md"), "- created\n");
    });
  });

  it("the size limit counts the note's current size without reading it: one byte over is refused, the note untouched", async () => {
    await withTempDir(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1", maxBytes: 100 });
      await store.write("ops.md", `${"a".repeat(89)}\n`); // 90 bytes
      await assert.rejects(store.append("ops.md", "b".repeat(10)), (e: unknown) => e instanceof Error && /would be 101 bytes, over the memory limit of 100/.test(e.message));
      await store.append("ops.md", "b".repeat(9));
      assert.equal(await store.read("ops.md"), `${"a".repeat(89)}\n${"b".repeat(9)}\n`);
    });
  });

  it("a note hard-linked to a file outside the root is not appended through the link: the outside file is untouched", async () => {
    await withTempDir(async (dir) => {
      const root = path.join(dir, "memory");
      await mkdir(root);
      await writeFile(path.join(dir, "outside.md"), "outside\n");
      await link(path.join(dir, "outside.md"), path.join(root, "linked.md"));
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      await store.append("linked.md", "- entry");
      assert.equal(await readFile(path.join(dir, "outside.md"), "utf8"), "outside\n");
      assert.equal(await store.read("linked.md"), "outside\n- entry\n");
    });
  });

  it("4 processes appending entries that cross page boundaries lose nothing, and a reader meanwhile never sees a torn line", async () => {
    await withTempDir(async (root) => {
      const writers = 4;
      const each = 120;
      const note = "daily/2026-12-02.md";
      const env = { maxBytes: 8 * MiB };
      const workers = Array.from({ length: writers }, (_, i) => startWorker("append.ts", [root, note, String(each), `w${i}`, "5000"], { env }));
      await Promise.all(workers.map((w) => w.waitFor("ready")));
      for (const w of workers) w.child.stdin.end("go\n");
      let done = false;
      const finished = Promise.all(workers.map((w) => w.finished)).finally(() => (done = true));
      const reader = await openMemoryStore({ root, instance: "CLAWDINATOR-9", maxBytes: 8 * MiB });
      const checkWhole = (text: string, when: string): string[] => {
        assert.ok(text === "" || text.endsWith("\n"), `${when}: a torn last line (${text.length} bytes, ends ${JSON.stringify(text.slice(-30))})`);
        const lines = text === "" ? [] : text.slice(0, -1).split("\n");
        for (const line of lines) {
          const match = /^(w\d) (\d{4}) (x+) #([0-9a-f]{12})$/.exec(line);
          assert.ok(match, `${when}: a torn or mixed line: ${JSON.stringify(line.slice(0, 40))}…`);
          assert.equal(createHash("sha256").update(line.slice(0, line.lastIndexOf(" #"))).digest("hex").slice(0, 12), match[4], `${when}: a corrupted line`);
        }
        return lines;
      };
      let reads = 0;
      try {
        while (!done) {
          const text = await reader.read(note);
          if (text !== undefined) checkWhole(text, `read ${++reads}`);
        }
      } finally {
        // A failed check must not leave writers running in a folder that is about to be removed.
        if (!done) for (const w of workers) w.child.kill("SIGKILL");
        await finished;
      }
      for (const r of await finished) assert.equal(r.code, 0, r.stderr);
      const lines = checkWhole((await reader.read(note)) ?? "", "final");
      assert.equal(lines.length, writers * each);
      for (let i = 0; i < writers; i++) {
        const seqs = lines.filter((line) => line.startsWith(`w${i} `)).map((line) => Number(line.slice(3, 7)));
        assert.deepEqual(seqs, Array.from({ length: each }, (_, n) => n), `writer w${i}: every entry once, in order`);
      }
      assert.ok(reads > 10, `the reader read ${reads} times during the appends`);
    });
  });
});
