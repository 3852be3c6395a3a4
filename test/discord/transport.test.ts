import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BUILTIN_COMMANDS } from "../../agent/commands/builtin.ts";
import type { Command } from "../../agent/commands/types.ts";
import type { ConfigInput } from "../../agent/config/schema.ts";
import { GIFS } from "../../agent/gifs.ts";
import { alice, bob, eve, GUILD, OTHER_CHANNEL, startHarness, TEST_CHANNEL, THREAD, type Harness } from "./harness.ts";

async function withHarness(
  fn: (h: Harness) => Promise<void>,
  overrides: Partial<ConfigInput> = {},
  commands?: readonly Command[],
): Promise<void> {
  const harness = await startHarness(overrides, commands);
  try {
    await fn(harness);
  } finally {
    await harness.close();
  }
}

/** Replies to a given message id. */
const repliesTo = (h: Harness, id: string) => h.fake.posts.filter((p) => p.replyTo === id);
/**
 * The texts an interaction's invoker was finally shown, with who sees each: a direct reply (callback
 * type 4), or the edit of a deferral that was not deleted, then followups.
 */
const answersTo = (h: Harness, id: string): Array<{ content: string; ephemeral: boolean }> => {
  const mine = h.fake.interactionReplies.filter((r) => r.interactionId === id);
  const deleted = mine.some((r) => r.kind === "delete");
  return mine
    .filter((r) => r.content !== undefined && (r.kind === "followup" || (!deleted && (r.kind === "edit" || r.callbackType === 4))))
    .map((r) => ({ content: r.content ?? "", ephemeral: r.ephemeral }));
};

/**
 * Proves that earlier messages in the channel were dropped: a maintainer's message sent after them
 * is answered (the gateway and the per-channel queue keep order), and nothing else was.
 */
async function sentinel(h: Harness, channelId = TEST_CHANNEL): Promise<void> {
  const id = h.fake.sendMessage({ author: alice, channelId, content: "sentinel", mentionBot: true });
  await h.fake.waitFor(() => repliesTo(h, id).length === 1, 5000, "the sentinel's reply");
}

const announcement = (h: Harness) => h.fake.posts.filter((p) => p.content.startsWith("CLAWDINATOR-1 online."));

describe("Discord transport against the local Discord (real discord.js)", () => {
  it("on connect: one announcement with a greeting gif in #clawdributors-test, slash commands registered in the guild", async () => {
    await withHarness(async (h) => {
      const [post, ...more] = announcement(h);
      assert.equal(more.length, 0);
      assert.equal(post?.channelId, TEST_CHANNEL);
      assert.ok(GIFS.greeting.some((gif) => post?.content.endsWith(gif)), post?.content);
      assert.equal(h.fake.commands.length, 1);
      assert.equal(h.fake.commands[0]?.guildId, GUILD);
      assert.deepEqual(h.fake.commands[0]?.commands.map((c) => c.name), ["help", "status", "gif"]);
      const gif = h.fake.commands[0]?.commands.find((c) => c.name === "gif");
      assert.deepEqual(
        (gif?.options as Array<{ choices: Array<{ value: string }> }>)[0]?.choices.map((c) => c.value),
        Object.keys(GIFS),
      );
      assert.match(h.transport.status().detail, /connected as CLAWDINATOR-1.*clawd \(1456350064065904867\)/);
    });
  });

  it("a maintainer's mention gets a reply to their message; the brain sees the text without the mention; typing shown", async () => {
    await withHarness(async (h) => {
      // The brain answers only once the typing indicator is up: typing is shown while it thinks.
      h.brain.answer = async (m) => {
        await h.fake.waitFor(() => h.fake.typing.some((t) => t.channelId === TEST_CHANNEL), 5000, "typing");
        return `answer to: ${m.text}`;
      };
      const id = h.fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: "how do I deploy?", mentionBot: true });
      await h.fake.waitFor(() => repliesTo(h, id).length === 1);
      assert.equal(repliesTo(h, id)[0]?.content, "answer to: how do I deploy?");
      assert.equal(h.brain.asked.length, 1);
      assert.equal(h.brain.asked[0]?.author.id, alice.id);
      assert.equal(h.fake.typing.length, 1, "one typing call for a short wait");
      const reply = repliesTo(h, id)[0];
      assert.deepEqual(reply?.allowedMentions, { parse: [], replied_user: true }, "no mass pings from model text");
    });
  });

  it("a maintainer by role is answered, a built-in command runs without the brain", async () => {
    await withHarness(async (h) => {
      const id = h.fake.sendMessage({ author: bob, channelId: TEST_CHANNEL, content: "gif back", mentionBot: true });
      await h.fake.waitFor(() => repliesTo(h, id).length === 1);
      assert.ok(GIFS.back.includes(repliesTo(h, id)[0]?.content ?? ""));
      assert.equal(h.brain.asked.length, 0);
    });
  });

  it("a non-maintainer gets zero brain calls, one refusal, then silence; and is logged", async () => {
    await withHarness(async (h) => {
      const first = h.fake.sendMessage({ author: eve, channelId: TEST_CHANNEL, content: "write me a poem", mentionBot: true });
      await h.fake.waitFor(() => repliesTo(h, first).length === 1);
      assert.equal(repliesTo(h, first)[0]?.content, "I only take orders from maintainers.");
      const second = h.fake.sendMessage({ author: eve, channelId: TEST_CHANNEL, content: "please?", mentionBot: true });
      await sentinel(h);
      assert.equal(repliesTo(h, second).length, 0);
      assert.deepEqual(
        h.brain.asked.map((m) => m.author.id),
        [alice.id],
        "only the sentinel reached the brain",
      );
      const logged = h.logs.filter((l) => l.author === eve.id && l.reason === "not-maintainer");
      assert.equal(logged.length, 2);
    });
  });

  it("no mention where one is required: ignored", async () => {
    await withHarness(async (h) => {
      const id = h.fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: "just chatting" });
      await sentinel(h);
      assert.equal(repliesTo(h, id).length, 0);
      assert.deepEqual(h.brain.asked.map((m) => m.text), ["sentinel"]);
    });
  });

  it("a mention of the bot's own managed role counts as addressing it (what autocomplete inserts); the brain sees the text without it", async () => {
    await withHarness(async (h) => {
      const id = h.fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: "are you there?", mentionBotRole: true });
      await h.fake.waitFor(() => repliesTo(h, id).length === 1);
      assert.deepEqual(h.brain.asked.map((m) => m.text), ["are you there?"]);
    });
  });

  it("a reply to one of the bot's messages counts as addressing it", async () => {
    await withHarness(async (h) => {
      const greeting = announcement(h)[0];
      assert.ok(greeting);
      const id = h.fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: "and you are?", replyTo: greeting.id });
      await h.fake.waitFor(() => repliesTo(h, id).length === 1);
      assert.equal(h.brain.asked[0]?.text, "and you are?");
    });
  });

  it("a channel not on the allowlist is ignored, even for a maintainer's mention; its thread under an allowed channel is not", async () => {
    await withHarness(async (h) => {
      const outside = h.fake.sendMessage({ author: alice, channelId: OTHER_CHANNEL, content: "here?", mentionBot: true });
      const inThread = h.fake.sendMessage({ author: alice, channelId: THREAD, content: "in a thread", mentionBot: true });
      await h.fake.waitFor(() => repliesTo(h, inThread).length === 1);
      await sentinel(h);
      assert.equal(repliesTo(h, outside).length, 0);
      assert.equal(repliesTo(h, inThread)[0]?.channelId, THREAD);
      assert.deepEqual(h.brain.asked.map((m) => m.text).sort(), ["in a thread", "sentinel"]);
    });
  });

  it("a DM is ignored (dm.enabled=false) and logged, even from a maintainer", async () => {
    await withHarness(async (h) => {
      h.fake.sendMessage({ author: alice, dm: true, content: "psst", mentionBot: true });
      await sentinel(h);
      assert.deepEqual(h.brain.asked.map((m) => m.text), ["sentinel"]);
      assert.equal(h.fake.posts.filter((p) => p.channelId !== TEST_CHANNEL).length, 0, "nothing posted outside the channel");
      await h.waitForLog((l) => l.reason === "dm-disabled", "the DM");
    });
  });

  it("a long answer is split at 2,000 characters with the code block intact; the first part is the reply", async () => {
    await withHarness(async (h) => {
      const prose = Array.from({ length: 50 }, (_, i) => `Paragraph ${i}: ${"brutal ".repeat(12)}`).join("\n\n");
      const code = `\`\`\`ts\n${Array.from({ length: 20 }, (_, i) => `const x${i} = ${i};`).join("\n")}\n\`\`\``;
      const long = `${prose}\n${code}\nDone.`;
      h.brain.answer = () => long;
      const id = h.fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: "explain", mentionBot: true });
      await h.fake.waitFor(() => h.fake.posts.some((p) => p.content.endsWith("Done.")), 5000, "the last part");
      const parts = h.fake.posts.filter((p) => p.channelId === TEST_CHANNEL && !p.content.startsWith("CLAWDINATOR-1 online"));
      assert.ok(parts.length >= 3, `${parts.length} parts`);
      assert.equal(parts[0]?.replyTo, id);
      for (const part of parts) assert.ok(part.content.length <= 2000);
      assert.ok(parts.some((p) => p.content.includes(code)), "the code block is in one message");
      assert.equal(parts.map((p) => p.content).join("").replace(/\s+/g, ""), long.replace(/\s+/g, ""));
      assert.equal(h.fake.requests.filter((r) => r.status === 400).length, 0, "Discord never rejected a part");
    });
  });

  it("the gateway drops the connection: the client resumes the same session and still answers", async () => {
    await withHarness(async (h) => {
      h.fake.dropConnection();
      // Sent while the bot is away: the fake holds it and replays it on RESUME, as Discord does.
      const id = h.fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: "still there?", mentionBot: true });
      await h.fake.waitFor(() => repliesTo(h, id).length === 1, 15_000, "an answer after the drop");
      assert.equal(h.fake.identifies.length, 1, "resumed, not re-identified");
      assert.equal(h.fake.resumes.length, 1);
      await h.waitForLog((l) => l.msg === "discord: resumed session", "the resume");
      assert.equal(announcement(h).length, 1, "no second announcement");
      assert.match(h.transport.status().detail, /resumed 1x/);
    });
  });

  it("the gateway forgets the session: the client identifies anew and still answers, without a second greeting", async () => {
    await withHarness(async (h) => {
      h.fake.invalidateSessions();
      // discord.js spaces identifies about 5 s apart, so this test waits that long once.
      await h.fake.waitFor(() => h.fake.identifies.length === 2 && h.fake.connected, 20_000, "a new session");
      assert.equal(h.fake.resumes.length, 1, "it tried to resume first");
      await h.waitForLog((l) => l.msg === "discord: new session after reconnect", "the new session");
      const id = h.fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: "new session?", mentionBot: true });
      await h.fake.waitFor(() => repliesTo(h, id).length === 1, 5000);
      assert.equal(announcement(h).length, 1);
    });
  });

  it("a slash command from a maintainer is answered; from anyone else, an ephemeral refusal; no brain either way", async () => {
    await withHarness(async (h) => {
      const ok = h.fake.sendInteraction({ user: alice, guildId: GUILD, channelId: TEST_CHANNEL, commandName: "gif", options: { mood: "deploy" } });
      const no = h.fake.sendInteraction({ user: eve, guildId: GUILD, channelId: TEST_CHANNEL, commandName: "status" });
      // Answered directly or after a deferral (the harness defers after 20 ms, and `no` waits behind
      // `ok` in the channel's queue): what counts is the text each one ends up with, and who sees it.
      await h.fake.waitFor(() => answersTo(h, ok.id).length === 1 && answersTo(h, no.id).length === 1);
      const [answer] = answersTo(h, ok.id);
      const [refusal] = answersTo(h, no.id);
      assert.equal(answer?.ephemeral, false);
      assert.ok(GIFS.deploy.includes(answer?.content ?? ""), answer?.content);
      assert.equal(refusal?.ephemeral, true);
      assert.equal(refusal?.content, "I only take orders from maintainers.");
      assert.equal(h.brain.asked.length, 0);
    });
  });

  it("a refusal never waits in the queue: answered at once and privately while a maintainer's slow command holds the channel", async () => {
    // Access is decided on arrival (issue 16, 1b): eve's command is never queued behind the slow
    // one, so it is never deferred publicly ("thinking…") and its refusal is the one ephemeral reply.
    let fake: Harness["fake"] | undefined;
    let eveCommand: { id: string } | undefined;
    const slow: Command = {
      name: "slow",
      usage: "slow",
      summary: "waits for the next command's refusal",
      async run() {
        await fake?.waitFor(() => fake?.interactionReplies.some((r) => r.interactionId === eveCommand?.id && r.content !== undefined) ?? false, 5000, "eve's refusal");
        return { text: "done" };
      },
    };
    await withHarness(
      async (h) => {
        fake = h.fake;
        const first = h.fake.sendInteraction({ user: alice, guildId: GUILD, channelId: TEST_CHANNEL, commandName: "slow" });
        await h.fake.waitFor(() => h.fake.interactionReplies.some((r) => r.interactionId === first.id && r.callbackType === 5), 5000, "the slow command's deferral");
        eveCommand = h.fake.sendInteraction({ user: eve, guildId: GUILD, channelId: TEST_CHANNEL, commandName: "status" });
        await h.fake.waitFor(() => answersTo(h, first.id).length === 1, 5000, "the slow command's answer");
        assert.deepEqual(answersTo(h, eveCommand.id), [{ content: "I only take orders from maintainers.", ephemeral: true }]);
        assert.ok(!h.fake.interactionReplies.some((r) => r.interactionId === eveCommand?.id && r.callbackType === 5), "never deferred publicly");
        assert.equal(answersTo(h, first.id)[0]?.content, "done");
      },
      {},
      [...BUILTIN_COMMANDS, slow],
    );
  });

  it("a slow slash command is deferred in time, then its long answer edits the reply and follows up", async () => {
    let fake: Harness["fake"] | undefined;
    const report: Command = {
      name: "report",
      usage: "report",
      summary: "a long report",
      async run() {
        // Answer only once Discord was told "thinking…" (callback type 5).
        await fake?.waitFor(() => fake?.interactionReplies.some((r) => r.callbackType === 5) ?? false, 5000, "the deferral");
        return { text: Array.from({ length: 45 }, (_, i) => `line ${i} ${"x".repeat(60)}`).join("\n") };
      },
    };
    await withHarness(
      async (h) => {
        fake = h.fake;
        assert.ok(h.fake.commands[0]?.commands.some((c) => c.name === "report"), "registered");
        h.fake.sendInteraction({ user: alice, guildId: GUILD, channelId: TEST_CHANNEL, commandName: "report" });
        await h.fake.waitFor(() => h.fake.interactionReplies.filter((r) => r.kind === "followup").length === 1, 5000, "a followup");
        assert.deepEqual(
          h.fake.interactionReplies.map((r) => r.kind),
          ["callback", "edit", "followup"],
        );
        const text = h.fake.interactionReplies.map((r) => r.content ?? "").join("\n");
        assert.equal(text.split("\n").filter((l) => l.startsWith("line ")).length, 45);
        for (const r of h.fake.interactionReplies) assert.ok((r.content ?? "").length <= 2000);
      },
      {},
      [...BUILTIN_COMMANDS, report],
    );
  });

  it("a slash command status shows the Discord connection", async () => {
    await withHarness(async (h) => {
      const it = h.fake.sendInteraction({ user: bob, guildId: GUILD, channelId: TEST_CHANNEL, commandName: "status" });
      await h.fake.waitFor(() => answersTo(h, it.id).length === 1);
      const content = answersTo(h, it.id)[0]?.content ?? "";
      assert.match(content, /discord\s+configured\s+connected as CLAWDINATOR-1/);
    });
  });

  it("REST 429 on the reply: discord.js waits retry_after and the reply still lands, once", async () => {
    await withHarness(async (h) => {
      h.fake.failNext({ method: "POST", path: new RegExp(`^/channels/${TEST_CHANNEL}/messages$`), retryAfter: 0.1 });
      const id = h.fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: "hello", mentionBot: true });
      await h.fake.waitFor(() => repliesTo(h, id).length === 1, 5000);
      const attempts = h.fake.requests.filter((r) => r.method === "POST" && r.path.endsWith(`/channels/${TEST_CHANNEL}/messages`));
      assert.deepEqual(attempts.slice(-2).map((r) => r.status), [429, 200]);
      assert.equal(repliesTo(h, id).length, 1);
    });
  });

  it("rate limits: a maintainer over the per-user burst gets one notice and no more brain calls", async () => {
    await withHarness(
      async (h) => {
        const ids = ["one", "two", "three", "four"].map((content) =>
          h.fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content, mentionBot: true }),
        );
        await h.fake.waitFor(() => repliesTo(h, ids[2] ?? "").length === 1);
        const bobId = h.fake.sendMessage({ author: bob, channelId: TEST_CHANNEL, content: "bob here", mentionBot: true });
        await h.fake.waitFor(() => repliesTo(h, bobId).length === 1);
        assert.deepEqual(h.brain.asked.map((m) => m.text), ["one", "two", "bob here"]);
        assert.equal(repliesTo(h, ids[2] ?? "")[0]?.content, "Easy. Too many requests; try again in a minute.");
        assert.equal(repliesTo(h, ids[3] ?? "").length, 0);
      },
      { rateLimits: { perUser: { burst: 2, perMinute: 0.001 } } },
    );
  });

  it("a rejected token is a clear error, not a hang", async () => {
    const { startDiscordFake } = await import("../fakes/discord/index.ts");
    const { DiscordTransport, DiscordTransportError } = await import("../../agent/transport/discord.ts");
    const { createLogger, ScrubbingSink } = await import("../../agent/log.ts");
    const { DiscordSchema } = await import("../../agent/config/schema.ts");
    const fake = await startDiscordFake({ guilds: [] });
    try {
      const transport = new DiscordTransport({
        token: "wrong-token",
        apiBase: fake.apiBase,
        discord: DiscordSchema.parse({}),
        instance: "CLAWDINATOR-1",
        commands: [],
        log: createLogger({ level: "silent", sink: new ScrubbingSink(), name: "t" }),
      });
      await assert.rejects(transport.start(async () => {}), (error: unknown) => {
        assert.ok(error instanceof DiscordTransportError);
        assert.equal(error.code, "token-rejected");
        return true;
      });
    } finally {
      await fake.close();
    }
  });
});
