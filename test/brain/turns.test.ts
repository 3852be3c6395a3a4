import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import { z } from "zod";
import { KeyedSerializer } from "../../agent/brain/serial.ts";
import { ConfigError } from "../../agent/config/errors.ts";
import { parseConfig } from "../../agent/config/load.ts";
import { defineTool } from "../../agent/tools/registry.ts";
import { delayed, reply, type RecordedRequest, type Responder } from "../fakes/anthropic/server.ts";
import { anthropicFakeForSuite, dailyNote, FIXED_NOW, makeBrain, message } from "./harness.ts";

describe("KeyedSerializer", () => {
  it("runs tasks of one key in order, one at a time, and tasks of different keys together", async () => {
    const serial = new KeyedSerializer();
    const events: string[] = [];
    const task = (name: string, ms: number) => async (): Promise<string> => {
      events.push(`start ${name}`);
      await sleep(ms);
      events.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([serial.run("a", task("a1", 30)), serial.run("a", task("a2", 1)), serial.run("b", task("b1", 1))]);
    assert.deepEqual(results, ["a1", "a2", "b1"]);
    assert.ok(events.indexOf("end a1") < events.indexOf("start a2"), `a2 waits for a1: ${events.join(", ")}`);
    assert.ok(events.indexOf("start b1") < events.indexOf("end a1"), `b1 does not wait for a1: ${events.join(", ")}`);
  });

  it("a failed task does not block its key, and drained keys are forgotten", async () => {
    const serial = new KeyedSerializer();
    const failing = serial.run("a", () => Promise.reject(new Error("boom")));
    const next = serial.run("a", () => Promise.resolve("after"));
    assert.equal(serial.size, 1, "one busy key");
    await assert.rejects(failing, /boom/);
    assert.equal(await next, "after");
    for (let i = 0; i < 100; i++) await serial.run(`key-${i}`, () => Promise.resolve(i));
    await sleep(0);
    assert.equal(serial.size, 0, "no key is held once its queue is empty");
  });
});

describe("brain.turnTimeoutMs in the config", () => {
  it("defaults to three minutes and is validated like the other brain limits", () => {
    assert.equal(parseConfig({}, "test.json").brain.turnTimeoutMs, 180_000);
    assert.equal(parseConfig({ brain: { turnTimeoutMs: 5_000 } }, "test.json").brain.turnTimeoutMs, 5_000);
    for (const bad of [0, 1.5, "60000"]) {
      assert.throws(
        () => parseConfig({ brain: { turnTimeoutMs: bad } }, "test.json"),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.problems[0]?.field === "brain.turnTimeoutMs" &&
          /Example: "brain\.turnTimeoutMs": 180000/.test(error.message),
        `rejects ${JSON.stringify(bad)}`,
      );
    }
  });
});

/** The text of every message of a request, in order, for "did the model see X" checks. */
function transcript(request: RecordedRequest | undefined): string {
  return JSON.stringify(request?.body.messages ?? []);
}

describe("ClaudeBrain turns: one at a time per conversation, under a deadline", () => {
  const anthropic = anthropicFakeForSuite();
  const { newRequests } = anthropic;

  it("two messages at once in one conversation: the second turn sees the first exchange", async () => {
    const { brain } = await makeBrain(anthropic.fake.baseUrl);
    anthropic.fake.enqueue(delayed(50, reply.text("first answer")), reply.text("second answer"));
    const [first, second] = await Promise.all([
      brain.respond(message("first question", { conversation: "thread-race" })),
      brain.respond(message("second question", { conversation: "thread-race" })),
    ]);
    assert.equal(first.text, "first answer");
    assert.equal(second.text, "second answer");
    const requests = newRequests();
    assert.equal(requests.length, 2);
    assert.doesNotMatch(transcript(requests[0]), /second question/);
    const secondSaw = transcript(requests[1]);
    assert.match(secondSaw, /first question[\s\S]*first answer[\s\S]*second question/, "the first exchange is replayed before the second question");
  });

  it("messages in different conversations are answered concurrently", async () => {
    const { brain } = await makeBrain(anthropic.fake.baseUrl);
    // Each reply waits until the fake holds both requests (or gives up after a bound and says so).
    let arrived = 0;
    let bothArrived!: () => void;
    const both = new Promise<void>((resolve) => (bothArrived = resolve));
    const barrier: Responder = async () => {
      if (++arrived === 2) bothArrived();
      const together = await Promise.race([both.then(() => true), sleep(3_000, false, { ref: false })]);
      return reply.text(together ? "together" : "alone");
    };
    anthropic.fake.enqueue(barrier, barrier);
    const answers = await Promise.all([
      brain.respond(message("in A", { conversation: "thread-A" })),
      brain.respond(message("in B", { conversation: "thread-B" })),
    ]);
    assert.deepEqual(
      answers.map((a) => a.text),
      ["together", "together"],
      "the fake saw both requests before answering either",
    );
  });

  it("cancels the model request in flight at the turn deadline, says so, and records the gist", async () => {
    const { brain, memory, logs } = await makeBrain(anthropic.fake.baseUrl, { limits: { turnTimeoutMs: 300, timeoutMs: 10_000, maxRetries: 2 } });
    anthropic.fake.enqueue(delayed(4_000, reply.text("far too late")));
    const started = Date.now();
    const answer = await brain.respond(message("summarise the whole repo", { conversation: "thread-slow" }));
    const took = Date.now() - started;
    assert.match(answer.text, /took longer than the 300 ms I allow for one answer \(brain\.turnTimeoutMs\)/);
    assert.match(answer.text, /stopped after 1 model call/);
    // Generous bound: the fake answers after 4 s and the request timeout is 10 s, so an answer
    // well before 4 s means the request was cancelled rather than waited out or retried.
    assert.ok(took < 3_500, `answered after ${took} ms, before the fake's 4 s reply`);
    assert.equal(newRequests().length, 1, "the cancelled request is not retried");
    assert.ok(logs.some((l) => l.failure === "turn-timeout" && l.turnTimeoutMs === 300));
    await brain.flush();
    const note = (await memory.read(dailyNote(FIXED_NOW))) ?? "";
    assert.match(note, /thread-slow · sarah \(id-sarah\) asked: "summarise the whole repo" → "This took longer than the 300 ms/);

    // The conversation goes on: the next turn replays the timed-out exchange.
    anthropic.fake.enqueue(reply.text("short answer"));
    assert.equal((await brain.respond(message("just the README then", { conversation: "thread-slow" }))).text, "short answer");
    assert.match(transcript(newRequests()[1]), /summarise the whole repo[\s\S]*took longer than/);
  });

  it("runs no tool after the deadline: a write the model asked for after a slow tool is skipped", async () => {
    const slowLookup = defineTool({
      name: "slow_lookup",
      description: "A read-only look-up that takes a while (test stand-in for a slow GitHub call).",
      input: z.strictObject({}),
      kind: "read",
      async run() {
        await sleep(600);
        return { text: "looked up" };
      },
    });
    const { brain, memory } = await makeBrain(anthropic.fake.baseUrl, { extraTools: [slowLookup], limits: { turnTimeoutMs: 200 } });
    anthropic.fake.enqueue({
      content: [
        { type: "tool_use", id: "toolu_slow", name: "slow_lookup", input: {} },
        { type: "tool_use", id: "toolu_write", name: "memory_write", input: { path: "project.md", content: "written after the deadline" } },
      ],
      stopReason: "tool_use",
    });
    const answer = await brain.respond(message("look it up and note it", { conversation: "thread-tools" }));
    await brain.flush();
    assert.match(answer.text, /took longer than the 200 ms/);
    assert.match(answer.text, /tools that ran: slow_lookup;/);
    assert.doesNotMatch(answer.text, /memory_write/);
    assert.equal(await memory.read("project.md"), undefined, "the write after the deadline never ran");
    assert.deepEqual(await memory.list(), [dailyNote(FIXED_NOW)], "the only write is the gist of the turn");
    assert.equal(newRequests().length, 1, "no model call after the deadline");
  });
});
