import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { GIFS } from "../../agent/gifs.ts";
import { startAnthropicFake } from "../fakes/anthropic/server.ts";
import { startDiscordFake } from "../fakes/discord/index.ts";
import { cleanEnv, CLI, logLines, ROOT, runCli, withTempDir } from "../helpers/cli.ts";
import { alice, CONFIG, eve, GUILDS, TEST_CHANNEL } from "./harness.ts";

describe("the real `clawdinator run` on Discord (spawned, against the local Discord and the local Anthropic)", () => {
  it("connects with the token file, answers a maintainer through the model, refuses others without a model call, logs no token, exits 0 on SIGTERM", async () => {
    const token = "MTA5.discord.E2E-SECRET-TOKEN";
    const fake = await startDiscordFake({ guilds: GUILDS, token });
    const model = await startAnthropicFake({ apiKey: "sk-ant-E2E-SECRET" });
    try {
      await withTempDir(async (dir) => {
        await writeFile(path.join(dir, "discord-token"), `${token}\n`);
        await writeFile(
          path.join(dir, "config.json"),
          JSON.stringify({
            ...CONFIG,
            logLevel: "trace",
            discordTokenFile: "discord-token",
            endpoints: { discordApi: fake.apiBase, anthropic: model.baseUrl },
          }),
        );
        const child = spawn(process.execPath, [CLI, "run", "--config", path.join(dir, "config.json")], {
          cwd: ROOT,
          env: { ...cleanEnv(), ANTHROPIC_API_KEY: "sk-ant-E2E-SECRET" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
        const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        try {
          await fake.waitFor(() => fake.posts.some((p) => p.content.startsWith("CLAWDINATOR-1 online.")), 20_000, "the announcement");
          const status = fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: "status", mentionBot: true });
          const gif = fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: "gif back", mentionBot: true });
          const refused = fake.sendMessage({ author: eve, channelId: TEST_CHANNEL, content: "status", mentionBot: true });
          fake.sendMessage({ author: eve, channelId: TEST_CHANNEL, content: "write me a poem", mentionBot: true });
          const asked = fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: "how do I deploy?", mentionBot: true });
          await fake.waitFor(
            () => [status, gif, refused, asked].every((id) => fake.posts.some((p) => p.replyTo === id)),
            10_000,
            "four replies",
          );
          const reply = (id: string): string => fake.posts.find((p) => p.replyTo === id)?.content ?? "";
          assert.match(reply(status), /transport: discord/);
          assert.match(reply(status), /discord\s+configured\s+connected as CLAWDINATOR-1/);
          assert.ok(GIFS.back.includes(reply(gif)), reply(gif));
          assert.equal(reply(refused), "I only take orders from maintainers.");
          assert.match(reply(asked), /how do I deploy\?/, "the model's answer (the fake echoes the question)");
          assert.equal(model.requests.length, 1, "only the maintainer's question reached the model");
          assert.equal(fake.commands.length, 1, "slash commands registered");
        } finally {
          child.kill("SIGTERM");
        }
        const code = await exited;
        clearTimeout(killer);
        assert.equal(code, 0, stderr);
        for (const secret of [token, "sk-ant-E2E-SECRET"]) assert.ok(!stderr.includes(secret), `${secret} leaked into the log`);
        const logs = logLines(stderr);
        assert.ok(logs.some((l) => l.msg === "discord: connected"));
        assert.ok(logs.some((l) => l.reason === "not-maintainer" && l.author === eve.id), "the refusal is logged");
        assert.equal(logs.at(-1)?.msg, "stopped");
        // A SIGTERM is a normal stop: the gateway closing under it is not a lost connection.
        const alarms = logs.filter((l) => Number(l.level) >= 40 && /connection lost|disconnected/.test(String(l.msg)));
        assert.deepEqual(alarms, []);
        // One key per meaning: pino writes a repeated child binding twice into the same line.
        for (const line of stderr.split("\n")) assert.ok((line.match(/"component":/g) ?? []).length <= 1, `component twice: ${line}`);
      });
    } finally {
      await fake.close();
      await model.close();
    }
  });

  it("a token Discord rejects stops the run with exit 1 and a message naming the setting, no stack", async () => {
    const fake = await startDiscordFake({ guilds: GUILDS, token: "the-right-token" });
    try {
      await withTempDir(async (dir) => {
        await writeFile(path.join(dir, "discord-token"), "a-revoked-token\n");
        await writeFile(
          path.join(dir, "config.json"),
          JSON.stringify({ ...CONFIG, discordTokenFile: "discord-token", endpoints: { discordApi: fake.apiBase } }),
        );
        const result = await runCli(["run", "--config", path.join(dir, "config.json")], { timeoutMs: 30_000 });
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /Discord rejected the bot token: check "discordTokenFile"/);
        assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");
        assert.ok(!result.stderr.includes("a-revoked-token"), "the token is not printed");
      });
    } finally {
      await fake.close();
    }
  });
});
