import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
// One round trip (write, then read) goes through the real process; the rest run the same command
// line in process.
import { runCli as runCliSpawned, runCliInProcess as runCli, withTempDir } from "../helpers/cli.ts";

describe("clawdinator memory (the real CLI)", () => {
  it("write, read, append, ls and edit round-trip through --root", async () => {
    await withTempDir(async (root) => {
      const at = ["--root", root];
      let r = await runCliSpawned(["memory", "write", "ops.md", ...at], { input: "# Ops\n" });
      assert.equal(r.code, 0, r.stderr);
      r = await runCli(["memory", "append", "ops.md", ...at], { input: "- deploy green" });
      assert.equal(r.code, 0, r.stderr);
      r = await runCli(["memory", "append", "daily/2026-11-24.md", ...at], { input: "- 14:05Z CLAWDINATOR-1: hello\n" });
      assert.equal(r.code, 0, r.stderr);
      r = await runCliSpawned(["memory", "read", "ops.md", ...at]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "# Ops\n- deploy green\n");
      r = await runCli(["memory", "ls", ...at]);
      assert.equal(r.stdout, "daily/2026-11-24.md\nops.md\n");
      r = await runCli(["memory", "ls", "daily", ...at]);
      assert.equal(r.stdout, "daily/2026-11-24.md\n");

      // The edit command sees the content on stdin and its stdout replaces it; options after -- are its own.
      r = await runCli(["memory", "edit", "ops.md", ...at, "--", "sed", "-e", "s/green/GREEN/", "--posix"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await readFile(path.join(root, "ops.md"), "utf8"), "# Ops\n- deploy GREEN\n");
    });
  });

  it("edit leaves the file unchanged and exits 1 when the command fails, printing its stderr", async () => {
    await withTempDir(async (root) => {
      await writeFile(path.join(root, "ops.md"), "unchanged\n");
      const r = await runCli(["memory", "edit", "ops.md", "--root", root, "--", "sh", "-c", "cat; echo half-done; echo oops >&2; exit 3"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /oops/);
      assert.match(r.stderr, /exited with 3; "ops\.md" is unchanged/);
      assert.equal(await readFile(path.join(root, "ops.md"), "utf8"), "unchanged\n");
      const missing = await runCli(["memory", "edit", "ops.md", "--root", root, "--", "no-such-command-xyz"]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /command "no-such-command-xyz" not found/);
      assert.equal(await readFile(path.join(root, "ops.md"), "utf8"), "unchanged\n");
    });
  });

  it("takes the root from --root, else CLAWDINATOR_MEMORY_DIR, else the config's memoryDir", async () => {
    await withTempDir(async (dir) => {
      await mkdir(path.join(dir, "conf"));
      await writeFile(path.join(dir, "conf/config.json"), JSON.stringify({ instance: "CLAWDINATOR-3", memoryDir: "mem-from-config" }));
      const fromConfig = await runCli(["memory", "write", "a.md", "--config", path.join(dir, "conf/config.json")], { input: "config" });
      assert.equal(fromConfig.code, 0, fromConfig.stderr);
      assert.equal(await readFile(path.join(dir, "conf/mem-from-config/a.md"), "utf8"), "config");

      const env = { CLAWDINATOR_MEMORY_DIR: path.join(dir, "mem-from-env"), CLAWDINATOR_CONFIG: path.join(dir, "conf/config.json") };
      const fromEnv = await runCli(["memory", "write", "a.md"], { input: "env", env });
      assert.equal(fromEnv.code, 0, fromEnv.stderr);
      assert.equal(await readFile(path.join(dir, "mem-from-env/a.md"), "utf8"), "env");

      const fromFlag = await runCli(["memory", "write", "a.md", "--root", "mem-from-flag"], { input: "flag", env, cwd: dir });
      assert.equal(fromFlag.code, 0, fromFlag.stderr);
      assert.equal(await readFile(path.join(dir, "mem-from-flag/a.md"), "utf8"), "flag");
    });
  });

  it("honours the config's memory.maxBytes, and refuses a bad memory.* key naming the field", async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, "small.json"), JSON.stringify({ memoryDir: "mem", memory: { maxBytes: 2048 } }));
      const over = await runCli(["memory", "write", "a.md", "--config", path.join(dir, "small.json")], { input: "x".repeat(2049) });
      assert.equal(over.code, 2);
      assert.match(over.stderr, /would be 2049 bytes, over the memory limit of 2048 bytes.*\[MEMORY_TOO_LARGE\]/);
      const fits = await runCli(["memory", "write", "a.md", "--config", path.join(dir, "small.json")], { input: "x".repeat(2048) });
      assert.equal(fits.code, 0, fits.stderr);

      await writeFile(path.join(dir, "bad.json"), JSON.stringify({ memory: { lockStaleMs: 5 } }));
      const bad = await runCli(["memory", "ls", "--config", path.join(dir, "bad.json")]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /memory\.lockStaleMs: .*Example: "memory\.lockStaleMs": 10000/);
    });
  });

  it("refuses unsafe paths and oversized input with exit 2, the error code and the fix, writing nothing", async () => {
    await withTempDir(async (dir) => {
      const root = path.join(dir, "mem");
      const cases: Array<[string[], string, RegExp]> = [
        [["write", "../escape.md"], "x", /MEMORY_PATH_TRAVERSAL/],
        [["write", path.join(dir, "abs.md")], "x", /MEMORY_PATH_ABSOLUTE/],
        [["append", "notes.txt"], "x", /MEMORY_PATH_EXTENSION/],
        [["write", "big.md"], "x".repeat(1_048_577), /MEMORY_TOO_LARGE/],
      ];
      for (const [args, input, code] of cases) {
        const r = await runCli(["memory", ...args, "--root", root], { input });
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, code);
        assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      }
      const ls = await runCli(["memory", "ls", "--root", root]);
      assert.equal(ls.stdout, "");
      await assert.rejects(readFile(path.join(dir, "escape.md")));
      await assert.rejects(readFile(path.join(dir, "abs.md")));
    });
  });

  it("reading a missing file exits 1; usage mistakes exit 2 and say what to run", async () => {
    await withTempDir(async (root) => {
      const missing = await runCli(["memory", "read", "nope.md", "--root", root]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /"nope\.md" does not exist/);
      for (const [args, message] of [
        [["memory"], /memory needs an action/],
        [["memory", "read"], /memory read needs a PATH/],
        [["memory", "edit", "ops.md"], /needs a command after --/],
        [["memory", "frobnicate", "ops.md"], /unknown memory action "frobnicate"/],
        [["memory", "read", "ops.md", "--colour"], /unknown option --colour/],
      ] as const) {
        const r = await runCli([...args, "--root", root]);
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
      const help = await runCli(["--help"]);
      assert.match(help.stdout, /clawdinator memory read\|write\|append\|edit\|ls/);
    });
  });
});
