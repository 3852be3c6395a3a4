/**
 * Secrets never leave (issue 16, part 2): one scrubber for outgoing Discord messages, memory writes,
 * gists and log lines. Each configured secret is caught as itself, in base64 (any alignment) and hex,
 * as any run of 16+ of its characters, and split across lines; known token shapes are caught whoever
 * pasted them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SecretScrubber } from "../../agent/scrub.ts";
import { reply } from "../fakes/anthropic/server.ts";
import { anthropicFakeForSuite, makeBrain, message } from "../brain/harness.ts";
import { alice, startHarness, TEST_CHANNEL } from "../discord/harness.ts";

const SECRET = "s3cr3t-Value-0123456789-abcdefghijKLMNOP";

function scrubber(): SecretScrubber {
  const s = new SecretScrubber();
  s.add([SECRET]);
  return s;
}

function assertClean(out: string, leaked: string): void {
  assert.ok(!out.includes(leaked), `leaked ${leaked.slice(0, 24)}… in: ${out}`);
  assert.match(out, /\[REDACTED\]/);
}

describe("SecretScrubber", () => {
  it("catches the value, its base64 (standard, url-safe, at any byte offset inside a larger blob) and hex", () => {
    const s = scrubber();
    assertClean(s.scrub(`token=${SECRET}!`), SECRET);
    const b64 = Buffer.from(SECRET).toString("base64");
    assertClean(s.scrub(`basic ${b64}`), b64.slice(0, 40));
    assertClean(s.scrub(`u ${Buffer.from(SECRET).toString("base64url")}`), Buffer.from(SECRET).toString("base64url").slice(0, 40));
    for (const prefix of ["a", "ab", "abc", "Authorization: Basic user:"]) {
      const blob = Buffer.from(`${prefix}${SECRET}tail`).toString("base64");
      const out = s.scrub(blob);
      assert.ok(out.includes("[REDACTED]"), `base64 at offset ${prefix.length}: ${out}`);
      assert.ok(!Buffer.from(out.replace("[REDACTED]", ""), "base64").toString("latin1").includes(SECRET.slice(4, 20)));
    }
    const hex = Buffer.from(SECRET).toString("hex");
    assertClean(s.scrub(hex), hex.slice(0, 32));
    assertClean(s.scrub(hex.toUpperCase()), hex.toUpperCase().slice(0, 32));
  });

  it("catches any run of 16 or more of its characters, and the value split across lines", () => {
    const s = scrubber();
    const run = SECRET.slice(7, 25);
    assertClean(s.scrub(`partial: ${run} end`), run);
    const split = `${SECRET.slice(0, 13)}\n${SECRET.slice(13, 27)}\r\n  ${SECRET.slice(27)}`;
    const out = s.scrub(`here:\n${split}\nbye`);
    for (const part of [SECRET.slice(0, 13), SECRET.slice(13, 27), SECRET.slice(27)]) assert.ok(!out.includes(part), `leaked ${part}: ${out}`);
    assert.match(out, /^here:\n[\s\S]*bye$/);
    const escaped = JSON.stringify({ v: split });
    assert.ok(!s.scrub(escaped).includes(SECRET.slice(13, 27)), "split with JSON-escaped newlines");
    assert.equal(s.scrub("an ordinary sentence about s3cr3t values"), "an ordinary sentence about s3cr3t values");
  });

  it("masks well-known token shapes, configured or not", () => {
    const s = new SecretScrubber();
    const tokens = [
      "MTA1NjM1MDA2NDA2NTkwNDg2Nw.GbXyZa.abcdefghijklmnopqrstuvwxyz0123456789ab", // Discord bot token
      `ghp_${"a1B2".repeat(9)}`,
      `github_pat_11ABCDEFG0${"x".repeat(12)}_${"Yz9".repeat(20)}`,
      `ghs_${"Q".repeat(36)}`,
      `sk-ant-api03-${"k".repeat(40)}`,
      `sk-proj-${"P".repeat(40)}`,
      "AKIAIOSFODNN7EXAMPLE",
      "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      `AGE-SECRET-KEY-1${"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L".repeat(2).slice(0, 58)}`,
    ];
    for (const token of tokens) {
      const out = s.scrub(`look: ${token} ok`);
      assert.ok(!out.includes(token.slice(-20)), `${token.slice(0, 12)} masked: ${out}`);
    }
  });
});

describe("where the scrubber stands", () => {
  const anthropic = anthropicFakeForSuite();

  it("an outgoing Discord message never carries a secret, whatever the brain answers", async () => {
    const h = await startHarness();
    try {
      const token = h.fake.token;
      h.brain.answer = () => `here you go: ${token} and ${Buffer.from(token).toString("base64")}`;
      const asked = h.fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: "leak it", mentionBot: true });
      await h.fake.waitFor(() => h.fake.posts.some((p) => p.replyTo === asked), 5000, "the answer");
      const post = h.fake.posts.find((p) => p.replyTo === asked)?.content ?? "";
      assert.ok(!post.includes(token), post);
      assert.ok(!post.includes(Buffer.from(token).toString("base64").slice(0, 20)), post);
      assert.match(post, /\[REDACTED\]/);
    } finally {
      await h.close();
    }
  });

  it("a memory write and the daily-note gist are scrubbed before they reach the store", async () => {
    const s = scrubber();
    const { brain, memory } = await makeBrain(anthropic.fake.baseUrl, { scrub: (t) => s.scrub(t) });
    anthropic.fake.enqueue(reply.toolUse("memory_write", { path: "ops.md", content: `key: ${SECRET}` }), reply.text(`saved ${SECRET}`));
    const answer = await brain.respond(message(`remember ${SECRET}`));
    await brain.flush();
    for (const [path, content] of memory.files) assert.ok(!content.includes(SECRET.slice(0, 16)), `${path} holds the secret`);
    assert.match((await memory.read("ops.md")) ?? "", /\[REDACTED\]/);
    assert.ok(!answer.text.includes(SECRET), "the reply is scrubbed too");
  });
});
