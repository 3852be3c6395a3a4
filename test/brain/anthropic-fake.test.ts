import Anthropic from "@anthropic-ai/sdk";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { lastUserText, reply, startAnthropicFake, type AnthropicFake } from "../fakes/anthropic/server.ts";

// The fake is checked with the real SDK, so the brain's tests talk to something the SDK accepts.
describe("the Anthropic fake, driven by the real @anthropic-ai/sdk", () => {
  let fake: AnthropicFake;
  let client: Anthropic;
  before(async () => {
    fake = await startAnthropicFake({ apiKey: "sk-fake" });
    client = new Anthropic({ apiKey: "sk-fake", baseURL: fake.baseUrl, maxRetries: 2 });
  });
  after(() => fake.close());

  const ask = (text: string) =>
    client.messages.create({ model: "claude-test", max_tokens: 64, messages: [{ role: "user", content: text }] });

  it("answers a non-streaming request and records it with its credential", async () => {
    fake.enqueue(reply.text("I'll be back."));
    const message = await ask("hello");
    assert.equal(message.role, "assistant");
    assert.deepEqual(
      message.content.map((b) => (b.type === "text" ? b.text : b.type)),
      ["I'll be back."],
    );
    assert.equal(message.stop_reason, "end_turn");
    const last = fake.requests.at(-1);
    assert.equal(last?.auth, "bearer");
    assert.equal(last?.authorized, true);
    assert.equal(lastUserText(last!), "hello");
  });

  it("streams text and tool input in several deltas that the SDK reassembles", async () => {
    const longText = "Come with me if you want to live. ".repeat(3);
    fake.enqueue({
      content: [
        { type: "text", text: longText },
        { type: "tool_use", id: "toolu_1", name: "memory_read", input: { path: "daily/2026-11-24.md", note: "x".repeat(40) } },
      ],
    });
    const stream = client.messages.stream({ model: "claude-test", max_tokens: 64, messages: [{ role: "user", content: "go" }] });
    const deltas: string[] = [];
    stream.on("text", (delta) => deltas.push(delta));
    const message = await stream.finalMessage();
    assert.ok(deltas.length > 1, "text arrived in more than one delta");
    assert.equal(deltas.join(""), longText);
    assert.equal(message.stop_reason, "tool_use");
    const use = message.content[1];
    assert.equal(use?.type, "tool_use");
    assert.deepEqual(use?.type === "tool_use" ? use.input : undefined, { path: "daily/2026-11-24.md", note: "x".repeat(40) });
    assert.equal(fake.requests.at(-1)?.stream, true);
  });

  it("accepts x-api-key as well as a bearer token, and refuses a wrong key with 401", async () => {
    const ok = await fetch(`${fake.baseUrl}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": "sk-fake", "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(ok.status, 200);
    assert.equal(fake.requests.at(-1)?.auth, "x-api-key");

    const wrong = new Anthropic({ apiKey: "sk-wrong", baseURL: fake.baseUrl, maxRetries: 0 });
    await assert.rejects(
      wrong.messages.create({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) => error instanceof Anthropic.AuthenticationError && error.type === "authentication_error",
    );
  });

  it("injects 429 with retry-after; the SDK retries and succeeds", async () => {
    const before = fake.requests.length;
    fake.enqueue(reply.rateLimited(0.01), reply.text("after the storm"));
    const message = await ask("again");
    assert.equal(message.content[0]?.type === "text" ? message.content[0].text : "", "after the storm");
    assert.equal(fake.requests.length - before, 2);
  });

  it("injects 529 overloaded and 500 in the API's error shape", async () => {
    const noRetry = new Anthropic({ apiKey: "sk-fake", baseURL: fake.baseUrl, maxRetries: 0 });
    fake.enqueue(reply.overloaded());
    await assert.rejects(
      noRetry.messages.create({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) => error instanceof Anthropic.OverloadedError && error.status === 529 && error.type === "overloaded_error",
    );
    fake.enqueue(reply.serverError());
    await assert.rejects(
      noRetry.messages.create({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) => error instanceof Anthropic.InternalServerError && error.status === 500 && error.type === "api_error",
    );
  });

  it("rejects a tool_use left without its tool_result, as the real API does", async () => {
    await assert.rejects(
      client.messages.create({
        model: "m",
        max_tokens: 8,
        messages: [
          { role: "user", content: "read" },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_x", name: "memory_read", input: {} }] },
          { role: "user", content: "never mind" },
        ],
      }),
      (error: unknown) => error instanceof Anthropic.BadRequestError && /tool_result/.test(error.apiMessage ?? ""),
    );
  });

  it("keeps only the latest requests when asked to, and still counts every one", async () => {
    const small = await startAnthropicFake({ keepRequests: 2 });
    try {
      const c = new Anthropic({ apiKey: "any", baseURL: small.baseUrl, maxRetries: 0 });
      for (const text of ["one", "two", "three"]) {
        await c.messages.create({ model: "m", max_tokens: 8, messages: [{ role: "user", content: text }] });
      }
      assert.equal(small.requestCount(), 3);
      assert.deepEqual(small.requests.map(lastUserText), ["two", "three"]);
    } finally {
      await small.close();
    }
  });

  it("round-trips a tool result and hands it to the responder", async () => {
    fake.enqueue(reply.toolUse("status", {}, { id: "toolu_s" }), (request) => reply.text(`saw: ${lastUserText(request)}`));
    const first = await client.messages.create({
      model: "m",
      max_tokens: 8,
      tools: [{ name: "status", description: "status", input_schema: { type: "object", properties: {} } }],
      messages: [{ role: "user", content: "status?" }],
    });
    assert.equal(first.stop_reason, "tool_use");
    const second = await client.messages.create({
      model: "m",
      max_tokens: 8,
      messages: [
        { role: "user", content: "status?" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_s", content: "all green" }] },
      ],
    });
    assert.equal(second.content[0]?.type === "text" ? second.content[0].text : "", "saw: all green");
  });
});
