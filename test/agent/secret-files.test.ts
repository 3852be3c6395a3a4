/**
 * Secret files and config keys (issue 16, part 2): a secret path that is a FIFO or a device is
 * refused at once (a FIFO used to hang start-up, deaf to SIGTERM); a group- or world-readable secret
 * file is warned about; `__proto__`/`constructor`/`prototype` keys get a message that says what they are.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { ConfigError } from "../../agent/config/errors.ts";
import { parseConfig } from "../../agent/config/load.ts";
import { loadSecrets, type SecretFileWarning } from "../../agent/config/secrets.ts";
import { logLines, runCliInProcess, withTempDir } from "../helpers/cli.ts";

function problems(document: unknown): Array<{ field: string; problem: string }> {
  try {
    parseConfig(document, "test.json");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems.map((p) => ({ field: p.field, problem: p.problem }));
  }
  return assert.fail("accepted");
}

describe("secret files", () => {
  it("a FIFO secret path is refused at once, naming what it is", async () => {
    await withTempDir(async (dir) => {
      const fifo = path.join(dir, "token");
      execFileSync("mkfifo", [fifo]);
      const config = parseConfig({ anthropicApiKeyFile: fifo }, "test.json");
      await assert.rejects(loadSecrets(config, {}, "test.json"), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /anthropicApiKeyFile/);
        assert.match(error.message, /FIFO/);
        return true;
      });
    });
  });

  it("a device secret path is refused", async () => {
    const config = parseConfig({ anthropicApiKeyFile: "/dev/zero" }, "test.json");
    await assert.rejects(loadSecrets(config, {}, "test.json"), /device/);
  });

  it("`clawdinator run` with a FIFO secret exits 2 with the reason instead of hanging", async () => {
    await withTempDir(async (dir) => {
      execFileSync("mkfifo", [path.join(dir, "token")]);
      await writeFile(path.join(dir, "config.json"), JSON.stringify({ anthropicApiKeyFile: "token" }));
      const result = await runCliInProcess(["run", "--config", path.join(dir, "config.json")], { input: "", timeoutMs: 20_000 });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /FIFO/);
    });
  });

  it("warns when a secret file is readable by its group or by everyone, and not when it is 0400/0600", async () => {
    await withTempDir(async (dir) => {
      const open = path.join(dir, "open");
      const closed = path.join(dir, "closed");
      await writeFile(open, "sk-ant-open-key-value");
      await writeFile(closed, "sk-proj-closed-key-value");
      await chmod(open, 0o644);
      await chmod(closed, 0o600);
      const warnings: SecretFileWarning[] = [];
      const config = parseConfig({ anthropicApiKeyFile: open, openaiApiKeyFile: closed }, "test.json");
      const secrets = await loadSecrets(config, {}, "test.json", (w) => warnings.push(w));
      assert.equal(secrets.anthropicApiKey, "sk-ant-open-key-value");
      assert.deepEqual(warnings.map((w) => [w.field, w.file, w.mode]), [["anthropicApiKeyFile", open, "0644"]]);
      assert.match(warnings[0]?.message ?? "", /chmod 0400/);
      await writeFile(path.join(dir, "config.json"), JSON.stringify({ anthropicApiKeyFile: "open", endpoints: { anthropic: "http://127.0.0.1:9" } }));
      const result = await runCliInProcess(["run", "--config", path.join(dir, "config.json")], { input: "status\n" });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(logLines(result.stderr).some((l) => l.level === 40 && /group- or world-readable/.test(String(l.msg))), result.stderr);
    });
  });
});

describe("reserved keys in the config", () => {
  it("`__proto__`, `constructor` and `prototype` are refused as reserved names, at any depth, never as inline secrets", () => {
    for (const [document, field] of [
      [JSON.parse('{"__proto__": {"logLevel": "debug"}}'), "__proto__"],
      [{ constructor: 1 }, "constructor"],
      [JSON.parse('{"discord": {"guilds": {"__proto__": {"requireMention": true}}}}'), "discord.guilds.__proto__"],
      [{ access: { maintainers: { prototype: [] } } }, "access.maintainers.prototype"],
    ] as const) {
      const found = problems(document);
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.equal(found[0]?.field, field);
      assert.match(found[0]?.problem ?? "", /reserved/);
      assert.doesNotMatch(found[0]?.problem ?? "", /inline/);
    }
  });
});
