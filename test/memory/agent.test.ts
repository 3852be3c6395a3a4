import assert from "node:assert/strict";
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { runCliInProcess, withTempDir } from "../helpers/cli.ts";

describe("the agent on its hive-mind memory", () => {
  it("seeds an empty memoryDir at start and reports the real root in status", async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, "config.json"), JSON.stringify({ memoryDir: "hive" }));
      const r = await runCliInProcess(["run", "--config", path.join(dir, "config.json")], { input: "status\n" });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`memory\\s+configured\\s+hive mind at ${path.join(dir, "hive").replaceAll("/", "\\/")} \\(seeded \\d+ templates at start\\)`));
      const seeded = await readdir(path.join(dir, "hive"));
      for (const name of ["README.md", "project.md", "ops.md", "discord.md"]) assert.ok(seeded.includes(name), `${name} not seeded: ${seeded.join(", ")}`);
    });
  });

  it("stops with exit 2 and a message naming memoryDir when the root cannot be used", async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, "a-file"), "not a folder");
      await writeFile(path.join(dir, "config.json"), JSON.stringify({ memoryDir: "a-file/memory" }));
      const r = await runCliInProcess(["run", "--config", path.join(dir, "config.json")], { input: "status\n" });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /memoryDir: cannot use .*a-file\/memory as the memory root \(ENOTDIR\)\. Point "memoryDir"/);
    });
  });
});
