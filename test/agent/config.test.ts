import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { ConfigError } from "../../agent/config/errors.ts";
import { loadConfig, parseConfig } from "../../agent/config/load.ts";
import { loadSecrets } from "../../agent/config/secrets.ts";
import { runCliInProcess, withTempDir } from "../helpers/cli.ts";

function problemsOf(document: unknown): ConfigError {
  try {
    parseConfig(document, "test.json");
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail("the document was accepted");
}

describe("config", () => {
  it("loads a valid file and resolves relative paths against the file's folder", async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, "config.json");
      await writeFile(
        file,
        JSON.stringify({
          instance: "CLAWDINATOR-7",
          memoryDir: "mem",
          anthropicApiKeyFile: "keys/anthropic",
          endpoints: { anthropic: "http://127.0.0.1:9999" },
          githubApp: { appId: 1, installationId: 2, privateKeyFile: "/etc/app.pem" },
        }),
      );
      const { config, source } = await loadConfig(file, "/");
      assert.equal(source, file);
      assert.equal(config.instance, "CLAWDINATOR-7");
      assert.equal(config.memoryDir, path.join(dir, "mem"));
      assert.equal(config.anthropicApiKeyFile, path.join(dir, "keys/anthropic"));
      assert.equal(config.githubApp?.privateKeyFile, "/etc/app.pem");
      assert.equal(config.endpoints.anthropic, "http://127.0.0.1:9999");
      assert.equal(config.endpoints.github, "https://api.github.com", "unset endpoints keep their defaults");
    });
  });

  it("names the field, the problem and a fix for a wrong type", () => {
    const error = problemsOf({ githubApp: { appId: "12", installationId: 3, privateKeyFile: "k" } });
    assert.equal(error.problems.length, 1);
    assert.equal(error.problems[0]?.field, "githubApp.appId");
    assert.match(error.message, /githubApp\.appId: expected number, received string\. Example: "githubApp\.appId": 123456/);
  });

  it("rejects unknown keys, and points inline secrets at their *File key", () => {
    const error = problemsOf({ instanceName: "x", discordToken: "abc", githubApp: { appId: 1, installationId: 2, privateKeyFile: "k", privateKey: "pem" } });
    const byField = new Map(error.problems.map((p) => [p.field, p]));
    assert.equal(byField.get("instanceName")?.problem, "unknown key");
    assert.match(byField.get("discordToken")?.fix ?? "", /set "discordTokenFile"/);
    assert.match(byField.get("githubApp.privateKey")?.fix ?? "", /"githubApp\.privateKeyFile"/);
    assert.doesNotMatch(error.message, /abc|pem/, "the error never repeats a secret value");
  });

  for (const bad of ["clawdinator-1", "CLAWDINATOR-0", "CLAWDINATOR-", "SKYNET-1", "CLAWDINATOR-1 "]) {
    it(`rejects the instance name ${JSON.stringify(bad)}`, () => {
      const error = problemsOf({ instance: bad });
      assert.equal(error.problems[0]?.field, "instance");
      assert.match(error.message, /CLAWDINATOR-<n>/);
    });
  }

  it("rejects a non-http endpoint", () => {
    assert.equal(problemsOf({ endpoints: { github: "ftp://example.com" } }).problems[0]?.field, "endpoints.github");
  });

  it("says which secret file is missing, and which is empty", async () => {
    await withTempDir(async (dir) => {
      const config = parseConfig({ anthropicApiKeyFile: path.join(dir, "nope") }, "c.json");
      await assert.rejects(loadSecrets(config, {}, "c.json"), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems[0]?.field, "anthropicApiKeyFile");
        assert.match(error.message, /cannot read secret file .*nope \(ENOENT\)/);
        return true;
      });
      const empty = path.join(dir, "empty");
      await writeFile(empty, "\n");
      const config2 = parseConfig({ openaiApiKeyFile: empty }, "c.json");
      await assert.rejects(loadSecrets(config2, {}, "c.json"), /openaiApiKeyFile: secret file .* is empty/);
    });
  });

  it("takes secrets from the environment only when secretsFromEnv allows it", async () => {
    const env = { ANTHROPIC_API_KEY: "sk-from-env" };
    assert.equal((await loadSecrets(parseConfig({}, "c"), env, "c")).anthropicApiKey, "sk-from-env");
    assert.equal((await loadSecrets(parseConfig({ secretsFromEnv: false }, "c"), env, "c")).anthropicApiKey, undefined);
  });

  const cliCases: Array<[string, unknown, RegExp]> = [
    ["wrong type", { logLevel: 3 }, /logLevel: /],
    ["unknown key", { colour: "red" }, /colour: unknown key/],
    ["bad instance name", { instance: "T-1000" }, /instance: must be "CLAWDINATOR-<n>"/],
    ["missing secret file", { discordTokenFile: "./missing-token" }, /discordTokenFile: cannot read secret file/],
  ];
  for (const [kind, document, expected] of cliCases) {
    it(`the start command exits non-zero without a stack trace on ${kind}`, async () => {
      await withTempDir(async (dir) => {
        const file = path.join(dir, "config.json");
        await writeFile(file, JSON.stringify(document));
        const result = await runCliInProcess(["run", "--config", file], { input: "status\n" });
        assert.equal(result.code, 2);
        assert.match(result.stderr, expected);
        assert.doesNotMatch(result.stderr, /\n\s+at /);
        assert.equal(result.stdout, "", "nothing is answered with a bad config");
      });
    });
  }

  it("reports unreadable JSON with the file name", async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, "config.json");
      await writeFile(file, "{ nope");
      const result = await runCliInProcess(["run"], { env: { CLAWDINATOR_CONFIG: file } });
      assert.equal(result.code, 2);
      assert.match(result.stderr, new RegExp(`${file}.*\\n.*not valid JSON`));
    });
  });
});
