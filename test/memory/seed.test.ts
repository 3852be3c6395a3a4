import assert from "node:assert/strict";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { appendDailyNote, dailyNotePath } from "../../agent/memory/daily.ts";
import { MemoryError } from "../../agent/memory/errors.ts";
import { DEFAULT_TEMPLATES_DIR, readTemplates, seedMemory } from "../../agent/memory/seed.ts";
import { openMemoryStore } from "../../agent/memory/store.ts";
import { ROOT, withTempDir } from "../helpers/cli.ts";

async function fingerprint(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const rows = await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => {
        const full = path.join(e.parentPath, e.name);
        return `${path.relative(root, full)}:${(await stat(full)).mtimeMs}:${await readFile(full, "utf8")}`;
      }),
  );
  return rows.sort();
}

describe("seeding the hive mind from memory/", () => {
  it("the repository's templates are the default, valid memory files, with the layout the agent reads", async () => {
    assert.equal(DEFAULT_TEMPLATES_DIR, path.join(ROOT, "memory") + path.sep);
    const templates = await readTemplates(DEFAULT_TEMPLATES_DIR);
    for (const required of ["README.md", "project.md", "architecture.md", "ops.md", "discord.md", "maintainers.md", "triage.md"]) {
      assert.ok(templates.has(required), `memory/${required} is missing`);
      assert.match(templates.get(required) ?? "", /^# /, `memory/${required} starts with a heading`);
    }
  });

  it("an empty root gets every template, byte for byte", async () => {
    await withTempDir(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      const result = await seedMemory(store);
      const templates = await readTemplates(DEFAULT_TEMPLATES_DIR);
      assert.deepEqual(result.created, [...templates.keys()].sort());
      assert.equal(result.existing, 0);
      assert.deepEqual(await store.list(), [...templates.keys()].sort());
      for (const [name, content] of templates) assert.equal(await readFile(path.join(root, name), "utf8"), content);
    });
  });

  it("a root that holds any memory is left exactly as it was (content and mtimes), even when templates are missing from it", async () => {
    await withTempDir(async (root) => {
      await mkdir(path.join(root, "daily"));
      await writeFile(path.join(root, "daily/2026-11-23.md"), "- yesterday\n");
      await writeFile(path.join(root, "project.md"), "# our own project notes\n");
      const before = await fingerprint(root);
      const result = await seedMemory(root);
      assert.deepEqual(result, { created: [], existing: 2 });
      const after = (await fingerprint(root)).filter((row) => !row.startsWith(".locks"));
      assert.deepEqual(after, before);
    });
  });

  it("seeding twice (a restart) changes nothing the second time, even after an instance edited a seeded file", async () => {
    await withTempDir(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      await seedMemory(store);
      await store.append("ops.md", "- 2026-11-24: first incident");
      const before = await fingerprint(root);
      assert.deepEqual((await seedMemory(store)).created, []);
      assert.deepEqual(await fingerprint(root), before);
    });
  });

  it("instances seeding one empty root at the same time create each template exactly once", async () => {
    await withTempDir(async (root) => {
      const stores = await Promise.all([1, 2, 3].map((n) => openMemoryStore({ root, instance: `CLAWDINATOR-${n}` })));
      const results = await Promise.all(stores.map((s) => seedMemory(s)));
      const created = results.flatMap((r) => r.created);
      const templates = await readTemplates(DEFAULT_TEMPLATES_DIR);
      assert.equal(new Set(created).size, created.length, `created twice: ${created.join(", ")}`);
      assert.deepEqual(await stores[0]?.list(), [...templates.keys()].sort());
    });
  });

  it("a missing or empty templates folder is refused with MEMORY_SEED_INVALID, and nothing is written", async () => {
    await withTempDir(async (dir) => {
      const root = path.join(dir, "root");
      await assert.rejects(seedMemory(root, path.join(dir, "no-such-folder")), (e: unknown) => e instanceof MemoryError && e.code === "MEMORY_SEED_INVALID");
      await mkdir(path.join(dir, "empty"));
      await assert.rejects(seedMemory(root, path.join(dir, "empty")), (e: unknown) => e instanceof MemoryError && e.code === "MEMORY_SEED_INVALID");
      assert.deepEqual(await (await openMemoryStore({ root, instance: "CLAWDINATOR-1" })).list(), []);
    });
  });
});

describe("daily notes", () => {
  it("are named by UTC day, shared, or per instance for notes an instance rewrites", () => {
    assert.equal(dailyNotePath(new Date("2026-11-24T23:59:59Z")), "daily/2026-11-24.md");
    assert.equal(dailyNotePath(new Date("2026-11-25T00:00:00+02:00")), "daily/2026-11-24.md");
    assert.equal(dailyNotePath(new Date("2026-11-24T12:00:00Z"), "CLAWDINATOR-2"), "daily/2026-11-24_CLAWDINATOR-2.md");
    assert.throws(() => dailyNotePath(new Date("2026-11-24"), "../x"), (e: unknown) => e instanceof MemoryError && e.code === "MEMORY_PATH_INVALID");
    assert.throws(() => dailyNotePath(new Date("not a date")), (e: unknown) => e instanceof MemoryError && e.code === "MEMORY_PATH_INVALID");
  });

  it("appendDailyNote adds one tagged line per entry to the shared note", async () => {
    await withTempDir(async (root) => {
      const store = await openMemoryStore({ root, instance: "CLAWDINATOR-1" });
      const now = new Date("2026-11-24T14:05:00Z");
      assert.equal(await appendDailyNote(store, { instance: "CLAWDINATOR-1", text: "asked about EFS\nanswered: use the lock", now }), "daily/2026-11-24.md");
      await appendDailyNote(store, { instance: "CLAWDINATOR-2", text: "deploy 1a2b3c green", now });
      assert.equal(await store.read("daily/2026-11-24.md"), "- 14:05Z CLAWDINATOR-1: asked about EFS answered: use the lock\n- 14:05Z CLAWDINATOR-2: deploy 1a2b3c green\n");
    });
  });
});
