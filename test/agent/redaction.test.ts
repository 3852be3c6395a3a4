import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { chmod, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { createLogger, ScrubbingSink } from "../../agent/log.ts";
import { logLines, runCliInProcess, withTempDir } from "../helpers/cli.ts";

/** A sink that records scrubbed lines instead of writing them to a file descriptor. */
class RecordingSink extends ScrubbingSink {
  readonly lines: string[] = [];
  override write(line: string): void {
    this.lines.push(this.scrub(line));
  }
}

describe("log redaction", () => {
  it("scrubs secret values wherever they appear, and secret-named fields by key", () => {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 1024,
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const sink = new RecordingSink();
    sink.addSecrets(["discord-token-AAAA.BBBB.CCCC", privateKey]);
    const log = createLogger({ level: "trace", sink, name: "CLAWDINATOR-1" });
    log.info({ token: "some-other-token" }, "by key");
    log.error({ err: new Error("login failed with discord-token-AAAA.BBBB.CCCC") }, "by value");
    log.warn({ dump: { pem: privateKey } }, "a PEM key escaped inside JSON");
    const keyBodyLine = privateKey.split("\n")[3] ?? "";
    log.debug(`a fragment of the key: ${keyBodyLine}`);
    const all = sink.lines.join("");
    assert.equal(sink.lines.length, 4);
    for (const leaked of ["discord-token-AAAA.BBBB.CCCC", "some-other-token", keyBodyLine, "BEGIN RSA PRIVATE KEY-----\\nMII"]) {
      assert.ok(!all.includes(leaked), `leaked ${leaked.slice(0, 20)}`);
    }
    assert.equal(all.split("[REDACTED]").length - 1 >= 4, true);
  });

  it("never writes a secret from a config file or the environment to the agent's log", async () => {
    await withTempDir(async (dir) => {
      // A Discord token switches the agent to Discord; its redaction is checked against the Discord
      // fake in test/discord/e2e.test.ts. Here it is only a string the operator pastes.
      const discordToken = "MTA5.discord.SECRET-VALUE-1";
      const anthropicKey = "sk-ant-SECRET-VALUE-2";
      const openaiKey = "sk-proj-SECRET-VALUE-3";
      await writeFile(path.join(dir, "openai"), openaiKey);
      // The coding sandbox (run as nobody when the test is root) must pass through the task folder's parents.
      await chmod(dir, 0o711);
      await writeFile(
        path.join(dir, "config.json"),
        JSON.stringify({
          logLevel: "trace",
          openaiApiKeyFile: "openai",
          // A closed local port: the model call fails fast and a fake key never leaves the machine.
          endpoints: { anthropic: "http://127.0.0.1:9" },
          brain: { maxRetries: 0 },
        }),
      );
      const result = await runCliInProcess(["run", "--config", path.join(dir, "config.json")], {
        env: { ANTHROPIC_API_KEY: anthropicKey },
        // The operator pastes a secret into the shell: it must not reach the log either.
        input: `status\nmy key is ${openaiKey}\n${discordToken}\n`,
      });
      assert.equal(result.code, 0, result.stderr);
      // The OpenAI key turns coding on (the key itself never shows).
      assert.match(result.stdout, /openai\s+configured\s+coding with \S+ at \S+; sandbox bubblewrap; targets self, workspace, memory/);
      assert.ok(logLines(result.stderr).length >= 3, "the log was written");
      for (const secret of [anthropicKey, openaiKey]) {
        assert.ok(!result.stderr.includes(secret), `secret ${secret} leaked into the log`);
      }
    });
  });
});
