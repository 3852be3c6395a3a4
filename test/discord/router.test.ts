import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AccessControl } from "../../agent/access.ts";
import { BUILTIN_COMMANDS } from "../../agent/commands/builtin.ts";
import { AccessSchema, DiscordSchema, RateLimitsSchema } from "../../agent/config/schema.ts";
import { createLogger, ScrubbingSink } from "../../agent/log.ts";
import { Router } from "../../agent/router.ts";
import type { IncomingMessage } from "../../agent/transport/types.ts";
import { CountingBrain } from "./harness.ts";

const GUILD = "1456350064065904867";

function setup(): { router: Router; brain: CountingBrain } {
  const brain = new CountingBrain();
  const access = new AccessControl({
    discord: DiscordSchema.parse({ guilds: { [GUILD]: { channels: { general: { allow: true } } } } }),
    access: AccessSchema.parse({ maintainers: { users: ["1"] } }),
    rateLimits: RateLimitsSchema.parse({}),
  });
  const router = new Router({
    commands: BUILTIN_COMMANDS,
    brain,
    access,
    log: createLogger({ level: "silent", sink: new ScrubbingSink(), name: "CLAWDINATOR-1" }),
    status: () => ({ instance: "CLAWDINATOR-1", version: "0", transport: "test", configSource: "test", startedAt: new Date(0), integrations: [] }),
  });
  return { router, brain };
}

const guildMessage = (text: string, author = "1"): IncomingMessage => ({
  id: text,
  text,
  author: { id: author, name: author, roleIds: [] },
  conversation: "c",
  origin: "guild",
  addressed: true,
  guildId: GUILD,
  channelKeys: ["c", "general"],
  receivedAt: new Date(0),
});

describe("router with access control", () => {
  it("a denied message reaches neither a command nor the brain; a refusal is marked private", async () => {
    const { router, brain } = setup();
    const reply = await router.handle(guildMessage("status", "2"));
    assert.deepEqual(reply, { text: "I only take orders from maintainers.", private: true });
    assert.equal(await router.handle(guildMessage("hello", "2")), undefined, "second time: silence");
    assert.equal(brain.asked.length, 0);
  });

  it("the shell operator is answered without any Discord rule", async () => {
    const { router, brain } = setup();
    const reply = await router.handle({ ...guildMessage("hello", "local:me"), origin: "shell", guildId: undefined, channelKeys: [] });
    assert.equal(reply?.text, "answer to: hello");
    assert.equal(brain.asked.length, 1);
  });

  it("typing runs only around the brain, and is stopped even when the brain throws", async () => {
    const { router, brain } = setup();
    const events: string[] = [];
    const typing = () => {
      events.push("start");
      return () => events.push("stop");
    };
    await router.handle(guildMessage("gif"), { typing });
    assert.deepEqual(events, [], "a built-in command shows no typing");
    await router.handle(guildMessage("hello"), { typing });
    assert.deepEqual(events, ["start", "stop"]);
    brain.answer = () => {
      throw new Error("model down");
    };
    const reply = await router.handle(guildMessage("again"), { typing });
    assert.match(reply?.text ?? "", /Something broke on my side \(ref [0-9a-f]{8}\)/);
    assert.deepEqual(events, ["start", "stop", "start", "stop"]);
  });
});
