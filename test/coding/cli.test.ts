// `clawdinator code` (its command line, in this process): one task from the terminal against the local Responses fake
// and the real sandbox, printing what it would post; and a clear "not configured" without a key.
import assert from "node:assert/strict";
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { runCliInProcess, withTempDir } from "../helpers/cli.ts";
import { reply, startOpenAIFake } from "../fakes/openai/server.ts";

describe("clawdinator code", () => {
  it("says clearly that coding is not configured when there is no OpenAI key, and calls nothing", async () => {
    await withTempDir(async (dir) => {
      const result = await runCliInProcess(["code", "add a test", "--repo", "self"], { cwd: dir });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /coding is not configured: no OpenAI API key; set "openaiApiKeyFile" in the config \(or OPENAI_API_KEY for a local run\)/);
      assert.equal(result.stdout, "");
    });
  });

  it("runs one task on a seed folder and prints the report and the patch", async () => {
    const openai = await startOpenAIFake({ apiKey: "sk-cli-test" });
    try {
      await withTempDir(async (dir) => {
        // When the test runs as root the sandbox runs as nobody, which must pass through this folder.
        await chmod(dir, 0o711);
        const seed = path.join(dir, "seed");
        await mkdir(seed);
        await writeFile(path.join(seed, "add.sh"), "echo $(( $1 + $2 ))\n");
        await writeFile(
          path.join(dir, "config.json"),
          JSON.stringify({ logLevel: "warn", endpoints: { openai: openai.baseUrl }, memoryDir: "memory", coding: { workDir: "tasks" } }),
        );
        openai.enqueue(
          reply.call("write_file", { path: "test.sh", content: "[ \"$(sh add.sh 2 3)\" = 5 ] && echo 'add: ok'\n" }),
          reply.call("run_command", { command: "sh test.sh" }),
          reply.text("Added test.sh; it passes."),
        );
        const result = await runCliInProcess(["code", "add a test for add.sh", "--repo", "./seed", "--config", "config.json"], {
          cwd: dir,
          env: { OPENAI_API_KEY: "sk-cli-test" },
          timeoutMs: 120_000,
        });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /^Coding task task-\S+ on repo "cli" \(gpt-5-codex\): finished after 3 steps/);
        assert.match(result.stdout, /`sh test\.sh` → exit code 0/);
        assert.match(result.stdout, /add: ok/);
        assert.match(result.stdout, /--- attached: task-\S+\.patch \(\d+ bytes\) ---\ndiff --git a\/test\.sh b\/test\.sh/);
        assert.doesNotMatch(result.stdout + result.stderr, /sk-cli-test/);
        assert.deepEqual(await readdir(path.join(dir, "tasks")), []);
      });
    } finally {
      await openai.close();
    }
  });
});
