// Issue 16, part 5: memory names. Limits are counted in UTF-8 bytes (what the file system counts), so
// a multibyte name over them gets a clear error rather than a raw ENAMETOOLONG; control, invisible and
// lookalike characters are refused; and a huge path is never echoed back whole.
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { describe, it } from "node:test";
import { MemoryPathError, type MemoryErrorCode } from "../../agent/memory/errors.ts";
import { checkMemoryPath } from "../../agent/memory/paths.ts";
import { openMemoryStore } from "../../agent/memory/store.ts";
import { runCliInProcess, withTempDir } from "../helpers/cli.ts";

function refused(code: MemoryErrorCode, message: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof MemoryPathError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  };
}

const euros = (n: number): string => "€".repeat(n); // 3 bytes each in UTF-8

describe("memory names, through the store", () => {
  it("a multibyte name over the per-name byte limit is refused with the byte count and the fix, nothing written", async () => {
    await withTempDir(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      for (const name of [`${euros(100)}.md`, `${euros(80)}.md`, `notes/${euros(70)}/a.md`]) {
        await assert.rejects(store.write(name, "x"), refused("MEMORY_PATH_TOO_LONG", /bytes in UTF-8, over the 200-byte limit.*Shorten/));
        await assert.rejects(store.append(name, "x"), refused("MEMORY_PATH_TOO_LONG", /over the 200-byte limit/));
      }
      assert.deepEqual(await readdir(root), []);
    });
  });

  it("names up to the limits work, multibyte ones included, however deep (their lock files too)", async () => {
    await withTempDir(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      const longest = `${euros(65)}.md`; // 198 bytes
      const deep = `${euros(66)}/${euros(66)}/${euros(60)}.md`; // 581 bytes, every name within 200
      const deepFits = `${euros(50)}/${euros(50)}/${euros(50)}.md`; // 455 bytes
      for (const name of [longest, deepFits, "日本.md", "заметки.md", "café.md", "Ελληνικά.md", "notes v2.md", "日本語/メモ2026.md"]) {
        await store.write(name, "one\n");
        await store.append(name, "two");
        await store.edit(name, (text) => `${text}three\n`);
        assert.equal(await store.read(name), "one\ntwo\nthree\n", name);
      }
      await assert.rejects(store.write(deep, "x"), refused("MEMORY_PATH_TOO_LONG", /over the 512-byte limit for a whole path/));
    });
  });

  it("control, bidi, zero-width and other invisible characters are refused (MEMORY_PATH_INVALID)", () => {
    for (const name of ["\u0085ops.md", "o\u202eps.md", "ops\u2066.md", "ops\u200b.md", "\ufeffops.md", "ops\u00ad.md", "o\u2028ps.md", "ops\u00a0x.md", "\u3164.md", "tab\t.md", "ops\u{e0041}.md"]) {
      assert.throws(() => checkMemoryPath(name), refused("MEMORY_PATH_INVALID", /control or invisible character U\+[0-9A-F]{4,5}/), JSON.stringify(name));
    }
  });

  it("lookalikes are refused (MEMORY_PATH_CONFUSABLE): a Cyrillic letter in a Latin word, a word of only Latin lookalikes, compatibility forms, a decomposed accent", () => {
    const cases: Array<[string, RegExp]> = [
      ["оps.md", /mixes Latin with Cyrillic letters/], // Cyrillic о
      ["daily/2026-11-24-rеview.md", /mixes Latin with Cyrillic/], // Cyrillic е
      ["сор.md", /only of Cyrillic letters that look like Latin ones/], // "cop"
      ["οps.md", /mixes Latin with Greek/], // Greek ο
      ["ｏｐｓ.md", /not in Unicode normal form.*"ops\.md"/], // fullwidth
      ["ﬁle.md", /not in Unicode normal form.*"file\.md"/], // ligature
      ["cafe\u0301.md", /not in Unicode normal form.*"café\.md"/], // decomposed é
    ];
    for (const [name, message] of cases) assert.throws(() => checkMemoryPath(name), refused("MEMORY_PATH_CONFUSABLE", message), name);
  });

  it("a 5,000-character path is never echoed back: a short printable prefix and its length", async () => {
    await withTempDir(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      const huge = `${"a/".repeat(2_498)}x.md`; // 5,000 characters
      for (const name of [huge, `${"\u202e".repeat(5_000)}.md`, `${"b".repeat(4_997)}.md`, `../${"c".repeat(5_000)}.md`, `/${"d".repeat(5_000)}.md`]) {
        await assert.rejects(store.write(name, "x"), (e: unknown) => {
          assert.ok(e instanceof MemoryPathError, String(e));
          assert.ok(e.message.length < 400, `${e.message.length} characters: ${e.message.slice(0, 200)}`);
          assert.ok((e.path ?? "").length < 100, `path field of ${(e.path ?? "").length} characters`);
          assert.match(e.message, /…" \(\d{4,} characters\)/);
          assert.doesNotMatch(e.message, /[\u202e]/, "no raw bidi override");
          return true;
        });
      }
      await assert.rejects(store.claim("k".repeat(5_000), 1_000), (e: unknown) => e instanceof Error && e.message.length < 400);
    });
  });
});

describe("memory names, through the CLI", () => {
  it("exit 2 with the code and the fix, never a raw ENAMETOOLONG or a 5,000-character echo", async () => {
    await withTempDir(async (root) => {
      const cases: Array<[string, RegExp]> = [
        [`${euros(100)}.md`, /over the 200-byte limit.*Shorten.*\[MEMORY_PATH_TOO_LONG\]/],
        ["оps.md", /mixes Latin with Cyrillic.*\[MEMORY_PATH_CONFUSABLE\]/],
        ["o\u202eps.md", /control or invisible character U\+202E.*\[MEMORY_PATH_INVALID\]/],
        [`${"a/".repeat(2_498)}x.md`, /…" \(5000 characters\).*\[MEMORY_PATH_TOO_LONG\]/],
      ];
      for (const [name, message] of cases) {
        const r = await runCliInProcess(["memory", "write", name, "--root", root], { input: "x" });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.ok(r.stderr.length < 600, `stderr of ${r.stderr.length} characters`);
        assert.doesNotMatch(r.stderr, /ENAMETOOLONG|\n\s+at /);
      }
      assert.deepEqual(await readdir(root), []);
    });
  });
});
