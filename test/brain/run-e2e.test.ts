import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { lastUserText, reply, startAnthropicFake, systemText, toolNames, type AnthropicFake } from "../fakes/anthropic/server.ts";
import { logLines, ROOT, runCli, runCliInProcess, withTempDir } from "../helpers/cli.ts";

const KEY = "sk-ant-e2e-0123456789abcdef";

// `clawdinator run` with the key in the environment and endpoints.anthropic pointing at the fake:
// the README's local run, with a model. In this process, except where the process's own stderr is
// the subject (what the SDK prints by itself).
describe("clawdinator run with an Anthropic key, against the local Anthropic fake", () => {
  let fake: AnthropicFake;
  before(async () => {
    fake = await startAnthropicFake({ apiKey: KEY });
  });
  after(() => fake.close());

  it("answers a free-form line with the model's words, uses a tool on the real memory, and logs no key", async () => {
    await withTempDir(async (dir) => {
      const config = path.join(dir, "config.json");
      await writeFile(
        config,
        JSON.stringify({
          instance: "CLAWDINATOR-5",
          memoryDir: "memory",
          workspaceDir: path.join(ROOT, "workspace"),
          endpoints: { anthropic: fake.baseUrl },
          models: { voice: "claude-e2e" },
        }),
      );
      fake.enqueue(
        reply.text("I Am a Cybernetic Organism, Living Tissue Over (Metal) Endoskeleton. Next."),
        reply.toolUse("memory_append", { path: "ops.md", text: "Deploy on Fridays is banned." }),
        reply.text("Noted in ops.md."),
      );
      const before = fake.requests.length;
      const result = await runCliInProcess(["run", "--config", config], {
        input: "what is your favourite song?\nremember: no deploys on Fridays\nstatus\n",
        env: { ANTHROPIC_API_KEY: KEY },
      });
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.split("\n");
      assert.equal(lines[0], "I Am a Cybernetic Organism, Living Tissue Over (Metal) Endoskeleton. Next.");
      assert.equal(lines[1], "Noted in ops.md.");
      assert.match(result.stdout, /anthropic\s+configured\s+model claude-e2e at http:\/\/127\.0\.0\.1:\d+; system prompt ~\d+\/3000 tokens/);

      const requests = fake.requests.slice(before);
      assert.equal(requests.length, 3, "status is a built-in command: no model call");
      assert.equal(requests[0]?.body.model, "claude-e2e");
      assert.match(systemText(requests[0]!), /You are CLAWDINATOR-5/);
      assert.match(lastUserText(requests[0]!), /what is your favourite song\?$/);
      assert.ok(toolNames(requests[1]!).includes("memory_append"), "the shell operator is a maintainer: write tools offered");

      const memory = path.join(dir, "memory");
      assert.ok((await readFile(path.join(memory, "ops.md"), "utf8")).endsWith("\nDeploy on Fridays is banned.\n"), "appended to the note on disk");
      const day = new Date().toISOString().slice(0, 10);
      const note = await readFile(path.join(memory, "daily", `${day}.md`), "utf8").catch(async () =>
        // The run may straddle midnight UTC; then the gist is in the previous day's note.
        readFile(path.join(memory, "daily", `${new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)}.md`), "utf8"),
      );
      assert.match(note, /CLAWDINATOR-5: shell.* asked: "what is your favourite song\?" → "I Am a Cybernetic Organism/);
      assert.match(note, /asked: "remember: no deploys on Fridays" → "Noted in ops\.md\." \[tools: memory_append\]/);

      assert.ok(!result.stderr.includes(KEY), "the key never reaches the log");
      const logs = logLines(result.stderr);
      assert.ok(logs.some((l) => l.component === "brain" && l.msg === "answered"));
    });
  });

  it("keeps stderr JSON-only and stdout the answers when the SDK prints a deprecation warning itself", async () => {
    await withTempDir(async (dir) => {
      const config = path.join(dir, "config.json");
      // A model on the SDK's own deprecation list: the SDK console.warns before every request.
      await writeFile(config, JSON.stringify({ memoryDir: "memory", endpoints: { anthropic: fake.baseUrl }, models: { voice: "claude-sonnet-4-5" } }));
      fake.enqueue(reply.text("Still here."));
      const result = await runCli(["run", "--config", config], { input: "hello\n", env: { ANTHROPIC_API_KEY: KEY } });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "Still here.");
      const stderrLines = result.stderr.split("\n").filter((line) => line.trim() !== "");
      const notJson = stderrLines.filter((line) => !line.startsWith("{"));
      assert.deepEqual(notJson, [], "every stderr line is a log line");
      const warning = logLines(result.stderr).find((l) => l.component === "console");
      assert.ok(warning, "the SDK's warning became a log line");
      assert.equal(warning.level, 40);
      assert.match(String(warning.msg), /claude-sonnet-4-5' is deprecated/);
    });
  });

  it("stops with exit 2 naming workspaceDir when the workspace is missing", async () => {
    await withTempDir(async (dir) => {
      const config = path.join(dir, "config.json");
      await writeFile(config, JSON.stringify({ workspaceDir: "nowhere", memoryDir: "memory", endpoints: { anthropic: fake.baseUrl } }));
      const result = await runCliInProcess(["run", "--config", config], { input: "hi\n", env: { ANTHROPIC_API_KEY: KEY } });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /workspaceDir: .*nowhere: cannot read the workspace folder \(ENOENT\)/);
    });
  });
});
