// bench/brain: what the Claude brain adds to a model call, and whether its memory stays flat.
// Against the local Anthropic fake answering instantly, on the real file memory store (each
// answer appends its gist to the daily note), in one run on this machine:
//   1. p50/p99 of ClaudeBrain.respond() beside p50/p99 of the same SDK call made directly, and
//      the difference (prompt, context, tools, bigger request bodies: the brain's own cost; the
//      gist append runs in the background and is not in it);
//   2. RSS after 10,000 messages spread over 2,000 conversations, beside RSS after the warm-up:
//      context is bounded per conversation and in number of conversations, so it must not grow
//      with the message count.
import Anthropic from "@anthropic-ai/sdk";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { pino } from "pino";
import { openClaudeBrain } from "../agent/brain/open.ts";
import { ConfigSchema } from "../agent/config/schema.ts";
import { openMemoryStore } from "../agent/memory/store.ts";
import type { StatusReport } from "../agent/status.ts";
import type { IncomingMessage } from "../agent/transport/types.ts";
import { reply, startAnthropicFake } from "../test/fakes/anthropic/server.ts";

const TIMED = Number.parseInt(process.env.BENCH_MESSAGES ?? "1000", 10);
const SOAK = Number.parseInt(process.env.BENCH_SOAK ?? "10000", 10);
const CONVERSATIONS = 2_000;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

// The fake keeps no request bodies: its memory must not be counted as the brain's.
const fake = await startAnthropicFake({ apiKey: "sk-bench", keepRequests: 0 });
fake.respondWith(() => reply.text("Affirmative. TOTAL BRUTAL."));
const memoryRoot = await mkdtemp(path.join(tmpdir(), "clawdinator-bench-brain-"));
const instance = "CLAWDINATOR-1";
const config = ConfigSchema.parse({ instance, endpoints: { anthropic: fake.baseUrl } });
const status = (): StatusReport => ({
  instance,
  version: "bench",
  transport: "bench",
  configSource: "bench",
  startedAt: new Date(),
  integrations: [],
});
// Built the way the agent builds it (shipped workspace, prompt budget, tools, limits from config).
const brain = await openClaudeBrain({
  config,
  source: "bench",
  apiKey: "sk-bench",
  log: pino({ level: "silent" }),
  status,
  scrub: (text) => text,
  memory: await openMemoryStore({ root: memoryRoot, instance, ...config.memory }),
});
const direct = new Anthropic({ apiKey: "sk-bench", baseURL: fake.baseUrl, maxRetries: 0 });

let sequence = 0;
function message(conversation: string): IncomingMessage {
  sequence++;
  return {
    id: `b${sequence}`,
    text: `question number ${sequence}: how do we deploy the fleet without downtime?`,
    author: { id: "1", name: "maintainer", roleIds: [] },
    conversation,
    origin: "guild",
    addressed: true,
    receivedAt: new Date(),
  };
}

const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

async function timeBrain(conversation: string): Promise<number> {
  const started = performance.now();
  await brain.respond(message(conversation));
  return performance.now() - started;
}

async function timeDirect(): Promise<number> {
  const started = performance.now();
  await direct.messages.create({
    model: config.models.voice,
    max_tokens: 64,
    messages: [{ role: "user", content: "question: how do we deploy the fleet without downtime?" }],
  });
  return performance.now() - started;
}

try {
  for (let i = 0; i < 100; i++) {
    await timeBrain(`warm-${i % 10}`);
    await timeDirect();
  }
  const brainTimes: number[] = [];
  const directTimes: number[] = [];
  // Interleaved, in a handful of conversations, so context is full (20 messages) as in a busy channel.
  for (let i = 0; i < TIMED; i++) {
    brainTimes.push(await timeBrain(`channel-${i % 5}`));
    directTimes.push(await timeDirect());
  }
  gc();
  const before = process.memoryUsage();
  const soakStarted = performance.now();
  let flushMs = 0;
  const flush = async (): Promise<void> => {
    const started = performance.now();
    await brain.flush();
    flushMs += performance.now() - started;
  };
  for (let i = 0; i < SOAK; i++) {
    await brain.respond(message(`conversation-${i % CONVERSATIONS}`));
    // Gists go to memory in the background; let the store keep up, as it does at human pace.
    if (i % 50 === 49) await flush();
  }
  await flush();
  const soakSeconds = (performance.now() - soakStarted) / 1000;
  gc();
  const after = process.memoryUsage();

  const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const row = (name: string, xs: number[]): string =>
    `  ${name.padEnd(28)} p50 ${percentile(xs, 50).toFixed(2)} ms   p99 ${percentile(xs, 99).toFixed(2)} ms`;
  console.log(`bench/brain: ${TIMED} timed messages, instant fake model, file memory store, Node ${process.version}`);
  console.log(row("ClaudeBrain.respond()", brainTimes));
  console.log(row("same SDK call made directly", directTimes));
  console.log(
    `  brain's own cost             p50 ${(percentile(brainTimes, 50) - percentile(directTimes, 50)).toFixed(2)} ms   ` +
      `p99 ${(percentile(brainTimes, 99) - percentile(directTimes, 99)).toFixed(2)} ms   ` +
      `(ratio p50 ${(percentile(brainTimes, 50) / percentile(directTimes, 50)).toFixed(2)}x)`,
  );
  const growth = (from: number, to: number): string =>
    `${mb(from)} -> ${mb(to)} (${to >= from ? "+" : ""}${mb(to - from)}, ${((to / from - 1) * 100).toFixed(1)}%)`;
  console.log(
    `  soak: ${SOAK} messages over ${CONVERSATIONS} conversations in ${soakSeconds.toFixed(1)} s, ` +
      `${(flushMs / 1000).toFixed(1)} s of it waiting for the memory store's appends to the daily note`,
  );
  console.log(`  RSS  ${growth(before.rss, after.rss)}`);
  console.log(`  heap ${growth(before.heapUsed, after.heapUsed)} (after GC)`);
} finally {
  await fake.close();
  await rm(memoryRoot, { recursive: true, force: true });
}
