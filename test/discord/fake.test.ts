import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DiscordAPIError, REST, Routes } from "discord.js";
import { startDiscordFake } from "../fakes/discord/index.ts";
import { GUILDS, TEST_CHANNEL } from "./harness.ts";

/** The fake's own rules, checked with discord.js's REST client, so the tests above can trust it. */
describe("the local Discord fake, as discord.js's REST client sees it", () => {
  it("rejects content over 2,000 characters with 50035, like Discord, and records nothing", async () => {
    const fake = await startDiscordFake({ guilds: GUILDS });
    try {
      const rest = new REST({ api: fake.apiBase, retries: 0 }).setToken(fake.token);
      await assert.rejects(rest.post(Routes.channelMessages(TEST_CHANNEL), { body: { content: "x".repeat(2001) } }), (error: unknown) => {
        assert.ok(error instanceof DiscordAPIError);
        assert.equal(error.code, 50035);
        assert.equal(error.status, 400);
        return true;
      });
      await rest.post(Routes.channelMessages(TEST_CHANNEL), { body: { content: "x".repeat(2000) } });
      assert.deepEqual(fake.posts.map((p) => p.content.length), [2000]);
    } finally {
      await fake.close();
    }
  });

  it("answers a wrong bot token with 401 and an unknown route with 404", async () => {
    const fake = await startDiscordFake({ guilds: GUILDS });
    try {
      const wrong = new REST({ api: fake.apiBase, retries: 0 }).setToken("not-the-token");
      await assert.rejects(wrong.get(Routes.gatewayBot()), (error: unknown) => error instanceof DiscordAPIError && error.status === 401);
      const rest = new REST({ api: fake.apiBase, retries: 0 }).setToken(fake.token);
      await assert.rejects(rest.get(Routes.guildAuditLog("1")), (error: unknown) => error instanceof DiscordAPIError && error.status === 404);
      const gateway = (await rest.get(Routes.gatewayBot())) as { url: string; shards: number };
      assert.equal(gateway.url, fake.gatewayUrl);
      assert.equal(gateway.shards, 1);
    } finally {
      await fake.close();
    }
  });

  it("refuses to inject events before the bot identified, and into unknown channels", async () => {
    const fake = await startDiscordFake({ guilds: GUILDS });
    try {
      assert.throws(() => fake.sendMessage({ author: { id: "1", username: "a" }, channelId: TEST_CHANNEL, content: "x" }), /not identified/);
      assert.throws(() => fake.sendMessage({ author: { id: "1", username: "a" }, channelId: "404", content: "x" }), /unknown guild channel/);
      assert.throws(() => fake.dropConnection(), /not connected/);
    } finally {
      await fake.close();
    }
  });
});
