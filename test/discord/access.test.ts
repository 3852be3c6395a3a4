import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AccessControl, TokenBuckets } from "../../agent/access.ts";
import { AccessSchema, DiscordSchema, RateLimitsSchema, type ConfigInput } from "../../agent/config/schema.ts";
import type { IncomingMessage } from "../../agent/transport/types.ts";

const GUILD = "1456350064065904867";
const TEST_CHANNEL = "1458426982579830908";
const QUIET_CHANNEL = "1458138963067011176";
const MAINTAINER = "111111111111111111";
const ROLE = "222222222222222222";
const STRANGER = "333333333333333333";

function control(
  overrides: { discord?: ConfigInput["discord"]; access?: ConfigInput["access"]; rateLimits?: ConfigInput["rateLimits"] } = {},
  clock = { now: 0 },
): AccessControl {
  return new AccessControl({
    discord: DiscordSchema.parse(
      overrides.discord ?? {
        guilds: {
          [GUILD]: {
            requireMention: true,
            channels: {
              "clawdributors-test": { allow: true },
              [QUIET_CHANNEL]: { allow: true, requireMention: false },
              "off-topic": { allow: false },
            },
          },
        },
      },
    ),
    access: AccessSchema.parse(overrides.access ?? { maintainers: { users: [MAINTAINER], roles: [ROLE] } }),
    rateLimits: RateLimitsSchema.parse(overrides.rateLimits ?? {}),
    now: () => clock.now,
  });
}

let sequence = 0;
function message(overrides: Partial<IncomingMessage> = {}): IncomingMessage {
  return {
    id: String(++sequence),
    text: "hello",
    author: { id: MAINTAINER, name: "maintainer", roleIds: [] },
    conversation: TEST_CHANNEL,
    origin: "guild",
    addressed: true,
    guildId: GUILD,
    channelId: TEST_CHANNEL,
    channelKeys: [TEST_CHANNEL, "clawdributors-test"],
    receivedAt: new Date(0),
    ...overrides,
  };
}

const stranger = { id: STRANGER, name: "stranger", roleIds: [] };

describe("access decisions", () => {
  it("answers a maintainer by user id, and one by role id", () => {
    const access = control();
    assert.deepEqual(access.decide(message()), { action: "answer" });
    assert.deepEqual(access.decide(message({ author: { id: STRANGER, name: "r", roleIds: [ROLE] } })), { action: "answer" });
  });

  it("always answers the shell's local operator and internal events, whatever the Discord rules", () => {
    const access = control({ access: { maintainers: { users: [], roles: [] } } });
    assert.deepEqual(access.decide(message({ origin: "shell", author: stranger, addressed: false })), { action: "answer" });
    assert.deepEqual(access.decide(message({ origin: "internal", author: stranger })), { action: "answer" });
  });

  it("refuses a non-maintainer who addresses the bot once, then stays silent until the cooldown passes", () => {
    const clock = { now: 0 };
    const access = control(undefined, clock);
    assert.deepEqual(access.decide(message({ author: stranger })), {
      action: "refuse",
      reason: "not-maintainer",
      text: "I only take orders from maintainers.",
    });
    assert.deepEqual(access.decide(message({ author: stranger })), { action: "ignore", reason: "not-maintainer" });
    clock.now += 600_000;
    assert.equal(access.decide(message({ author: stranger })).action, "refuse");
  });

  it("ignores a non-maintainer who does not address the bot, and all of them when refusal is null", () => {
    const access = control();
    const quiet = { channelKeys: [QUIET_CHANNEL, "clawdributors"], conversation: QUIET_CHANNEL };
    assert.deepEqual(access.decide(message({ author: stranger, addressed: false, ...quiet })), {
      action: "ignore",
      reason: "not-maintainer",
    });
    const silent = control({ access: { maintainers: { users: [MAINTAINER] }, refusal: null } });
    assert.deepEqual(silent.decide(message({ author: stranger })), { action: "ignore", reason: "not-maintainer" });
  });

  it("gates on the mention where the channel requires it, and not where it does not", () => {
    const access = control();
    assert.deepEqual(access.decide(message({ addressed: false })), { action: "ignore", reason: "mention-required" });
    const quiet = message({ addressed: false, channelKeys: [QUIET_CHANNEL, "clawdributors"], conversation: QUIET_CHANNEL });
    assert.deepEqual(access.decide(quiet), { action: "answer" });
  });

  it("a channel without its own requireMention inherits the guild's", () => {
    const access = control({
      discord: { guilds: { [GUILD]: { requireMention: false, channels: { "clawdributors-test": { allow: true } } } } },
    });
    assert.deepEqual(access.decide(message({ addressed: false })), { action: "answer" });
  });

  it("ignores unlisted guilds, unlisted channels and channels with allow=false", () => {
    const access = control();
    assert.deepEqual(access.decide(message({ guildId: "999" })), { action: "ignore", reason: "guild-not-allowed" });
    assert.deepEqual(access.decide(message({ channelKeys: ["42", "random"] })), { action: "ignore", reason: "channel-not-allowed" });
    assert.deepEqual(access.decide(message({ channelKeys: ["43", "off-topic"] })), { action: "ignore", reason: "channel-not-allowed" });
  });

  it("a thread follows its parent channel's rule unless listed itself (keys are most specific first)", () => {
    const access = control();
    const inThread = message({ channelKeys: ["777", "some thread", TEST_CHANNEL, "clawdributors-test"] });
    assert.deepEqual(access.decide(inThread), { action: "answer" });
    const underOffTopic = message({ channelKeys: ["778", "thread", "43", "off-topic"] });
    assert.deepEqual(access.decide(underOffTopic), { action: "ignore", reason: "channel-not-allowed" });
  });

  it("ignores DMs by default, even from maintainers; with dm.enabled, answers maintainers only", () => {
    const dm = { origin: "dm" as const, guildId: undefined, channelKeys: [] };
    assert.deepEqual(control().decide(message(dm)), { action: "ignore", reason: "dm-disabled" });
    const open = control({ discord: { dm: { enabled: true } } });
    assert.deepEqual(open.decide(message(dm)), { action: "answer" });
    assert.equal(open.decide(message({ ...dm, author: stranger })).action, "refuse");
  });

  it("a slash command (expects a response) gets a private refusal instead of silence", () => {
    const access = control({ access: { maintainers: { users: [MAINTAINER] }, refusal: null } });
    const slash = { expectsResponse: true };
    assert.deepEqual(access.decide(message({ ...slash, author: stranger })), {
      action: "refuse",
      reason: "not-maintainer",
      text: "Maintainers only.",
    });
    assert.deepEqual(access.decide(message({ ...slash, channelKeys: ["43", "off-topic"] })), {
      action: "refuse",
      reason: "channel-not-allowed",
      text: "I do not take commands in this channel.",
    });
    assert.equal(access.decide(message({ ...slash, author: stranger })).action, "refuse", "every time, not once");
  });

  it("rate-limits per user: burst, one notice, silence, then refill", () => {
    const clock = { now: 0 };
    const access = control({ access: { maintainers: { users: [MAINTAINER] } }, rateLimits: { perUser: { burst: 2, perMinute: 1 } } }, clock);
    assert.equal(access.decide(message()).action, "answer");
    assert.equal(access.decide(message()).action, "answer");
    assert.deepEqual(access.decide(message()), {
      action: "refuse",
      reason: "rate-limited",
      text: "Easy. Too many requests; try again in a minute.",
    });
    assert.deepEqual(access.decide(message()), { action: "ignore", reason: "rate-limited" });
    clock.now += 60_000;
    assert.equal(access.decide(message()).action, "answer", "one token back after a minute");
    assert.equal(access.decide(message()).action, "refuse", "and a new empty spell gets a new notice");
  });

  it("rate-limits per channel across users, and a refused message costs the user no token", () => {
    const clock = { now: 0 };
    const access = control(
      {
        access: { maintainers: { roles: [ROLE] } },
        rateLimits: { perUser: { burst: 2, perMinute: 1 }, perChannel: { burst: 3, perMinute: 1 }, notice: null },
      },
      clock,
    );
    const from = (id: string): IncomingMessage => message({ author: { id, name: id, roleIds: [ROLE] } });
    assert.equal(access.decide(from("1")).action, "answer");
    assert.equal(access.decide(from("2")).action, "answer");
    assert.equal(access.decide(from("3")).action, "answer");
    assert.deepEqual(access.decide(from("4")), { action: "ignore", reason: "rate-limited" });
    const elsewhere = message({ author: { id: "4", name: "4", roleIds: [ROLE] }, conversation: "other", channelKeys: [QUIET_CHANNEL] });
    assert.equal(access.decide(elsewhere).action, "answer", "user 4's bucket was untouched by the refusal");
  });

  it("token buckets forget keys once full again, so memory stays bounded", () => {
    const buckets = new TokenBuckets({ burst: 1, perMinute: 60 });
    for (let i = 0; i < 999; i++) buckets.take(`user-${i}`, 0);
    assert.equal(buckets.size, 999);
    buckets.take("one-more", 60_000);
    assert.equal(buckets.size, 1, "only the bucket still short of a token remains");
  });
});
