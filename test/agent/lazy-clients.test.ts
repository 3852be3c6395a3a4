// docs/ARCHITECTURE.md: "a client library loads only when its integration is configured". The local
// run must not pay for discord.js, the Anthropic SDK, the AWS SDK or Pulumi (discord.js alone is
// ~200 ms of start-up); this records what the real start command loads and checks it.
import assert from "node:assert/strict";
import { chmod, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { CLI, ROOT, run, withTempDir } from "../helpers/cli.ts";

const RECORDER = path.join(ROOT, "test/helpers/record-imports.ts");
const CLIENT_LIBRARIES = ["discord.js", "@discordjs", "@anthropic-ai/sdk", "@aws-sdk", "@pulumi", "openai", "@octokit"];

async function modulesLoadedBy(input: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  return withTempDir(async (dir) => {
    // The coding sandbox (run as nobody when the test is root) must pass through the run's folder.
    await chmod(dir, 0o711);
    const record = path.join(dir, "modules.txt");
    const result = await run(process.execPath, ["--import", RECORDER, CLI, "run"], {
      input,
      env: { ...env, RECORD_IMPORTS_TO: record },
      cwd: dir,
    });
    assert.equal(result.code, 0, result.stderr);
    return (await readFile(record, "utf8")).split("\n");
  });
}

const fromLibrary = (modules: string[], library: string): string[] => modules.filter((url) => url.includes(`/node_modules/${library}/`));

describe("client libraries load only when their integration is configured", () => {
  it("a local run with no keys loads none of them", async () => {
    const modules = await modulesLoadedBy("status\n");
    assert.ok(modules.some((url) => url.endsWith("/agent/main.ts")), "the recorder saw the agent load");
    for (const library of CLIENT_LIBRARIES) assert.deepEqual(fromLibrary(modules, library), [], `${library} was loaded`);
  });

  it("a GitHub token loads octokit, and nothing else", async () => {
    const modules = await modulesLoadedBy("status\n", { CLAWDINATOR_GITHUB_TOKEN: "ghp_lazy0000000000000000000000000000000" });
    assert.notDeepEqual(fromLibrary(modules, "@octokit"), [], "the recorder can see octokit");
    for (const library of CLIENT_LIBRARIES.filter((l) => l !== "@octokit")) assert.deepEqual(fromLibrary(modules, library), [], `${library} was loaded`);
  });

  it("an Anthropic key loads the Anthropic SDK, and still not discord.js", async () => {
    const modules = await modulesLoadedBy("status\n", { ANTHROPIC_API_KEY: "sk-ant-lazy-test" });
    assert.notDeepEqual(fromLibrary(modules, "@anthropic-ai/sdk"), [], "the recorder can see the SDK");
    assert.deepEqual(fromLibrary(modules, "discord.js"), []);
  });

  it("an OpenAI key loads the openai SDK for coding, and neither discord.js nor the Anthropic SDK", async () => {
    const modules = await modulesLoadedBy("status\n", { OPENAI_API_KEY: "sk-openai-lazy-test" });
    assert.notDeepEqual(fromLibrary(modules, "openai"), [], "the recorder can see the SDK");
    assert.deepEqual(fromLibrary(modules, "discord.js"), []);
    assert.deepEqual(fromLibrary(modules, "@anthropic-ai/sdk"), []);
  });
});
