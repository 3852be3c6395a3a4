// The local OpenAI Responses fake, driven by the real `openai` SDK: function_call and
// function_call_output round trips, streaming and not, 429 and 500 retried by the SDK, and the
// API's refusals (bad key, an output for a call that was never made).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { reply, startOpenAIFake, type OpenAIFake } from "./openai/server.ts";

let fake: OpenAIFake;
let client: OpenAI;

const TOOLS: OpenAI.Responses.Tool[] = [
  {
    type: "function",
    name: "read_file",
    description: "Read a file",
    strict: false,
    parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
  },
];

describe("OpenAI Responses fake, through the real SDK", () => {
  before(async () => {
    fake = await startOpenAIFake({ apiKey: "sk-fake-openai" });
    client = new OpenAI({ apiKey: "sk-fake-openai", baseURL: fake.baseUrl, maxRetries: 2 });
  });
  after(async () => {
    await fake.close();
  });

  it("round-trips a function call and its output, not streaming", async () => {
    fake.enqueue(reply.call("read_file", { path: "README.md" }), reply.text("It says hello."));
    const first = await client.responses.create({ model: "gpt-5-codex", input: "What does README.md say?", tools: TOOLS, store: false });
    const call = first.output.find((item) => item.type === "function_call");
    assert.ok(call && call.type === "function_call");
    assert.equal(call.name, "read_file");
    assert.deepEqual(JSON.parse(call.arguments), { path: "README.md" });
    assert.ok(first.usage && first.usage.total_tokens > 0);
    const second = await client.responses.create({
      model: "gpt-5-codex",
      input: [
        { role: "user", content: "What does README.md say?" },
        { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: "function_call_output", call_id: call.call_id, output: "hello" },
      ],
      tools: TOOLS,
      store: false,
    });
    assert.equal(second.output_text, "It says hello.");
    const sent = fake.requests.at(-1)?.body.input as Array<Record<string, unknown>>;
    assert.equal(sent.at(-1)?.type, "function_call_output");
  });

  it("continues from previous_response_id", async () => {
    fake.enqueue(reply.call("read_file", { path: "a.txt" }), reply.text("done"));
    const first = await client.responses.create({ model: "gpt-5-codex", input: "read a.txt", tools: TOOLS });
    const call = first.output.find((item) => item.type === "function_call");
    assert.ok(call?.type === "function_call");
    const second = await client.responses.create({
      model: "gpt-5-codex",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: "A" }],
    });
    assert.equal(second.output_text, "done");
  });

  it("streams function calls and text as SSE events the SDK assembles", async () => {
    fake.enqueue(reply.call("read_file", { path: "src/some/long/path/index.ts" }, { text: "Let me look at the file first." }));
    const stream = client.responses.stream({ model: "gpt-5-codex", input: "look", tools: TOOLS });
    const types: string[] = [];
    let argumentDeltas = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.function_call_arguments.delta") argumentDeltas += event.delta;
    }
    const final = await stream.finalResponse();
    const call = final.output.find((item) => item.type === "function_call");
    assert.ok(call?.type === "function_call");
    assert.deepEqual(JSON.parse(argumentDeltas), { path: "src/some/long/path/index.ts" });
    assert.equal(final.output_text, "Let me look at the file first.");
    assert.equal(types[0], "response.created");
    assert.equal(types.at(-1), "response.completed");
    assert.ok(types.includes("response.output_text.delta") && types.includes("response.output_item.done"));

    fake.enqueue(reply.text("streamed with create"));
    const raw = await client.responses.create({ model: "gpt-5-codex", input: "hi", stream: true });
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of raw) if (event.type === "response.completed") completed = event.response;
    const message = completed?.output[0];
    assert.ok(message?.type === "message" && message.content[0]?.type === "output_text");
    assert.equal(message.content[0].text, "streamed with create");
  });

  it("is retried by the SDK after a 429 with retry-after and after a 500", async () => {
    const before = fake.requests.length;
    fake.enqueue(reply.rateLimited(0.01), reply.serverError(), reply.text("third time lucky"));
    const response = await client.responses.create({ model: "gpt-5-codex", input: "retry me" });
    assert.equal(response.output_text, "third time lucky");
    assert.equal(fake.requests.length - before, 3);
  });

  it("fails with the SDK's error classes when retries run out, the key is wrong, or an output answers no call", async () => {
    fake.enqueue(reply.rateLimited(0.01), reply.rateLimited(0.01), reply.rateLimited(0.01));
    await assert.rejects(client.responses.create({ model: "gpt-5-codex", input: "x" }), OpenAI.RateLimitError);
    const wrong = new OpenAI({ apiKey: "sk-wrong", baseURL: fake.baseUrl, maxRetries: 0 });
    await assert.rejects(wrong.responses.create({ model: "gpt-5-codex", input: "x" }), OpenAI.AuthenticationError);
    await assert.rejects(
      client.responses.create({ model: "gpt-5-codex", input: [{ type: "function_call_output", call_id: "call_nope", output: "x" }] }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && /No tool call found/.test(error.message),
    );
  });
});
