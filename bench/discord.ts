// bench/discord: maintainer messages through the local Discord fake (real discord.js on both the
// gateway and REST side) into DiscordTransport → AccessControl → Router → brain → reply POST.
// discord.js's global REST limiter (50 requests/s) is lifted for the latency and memory runs: with
// it, sequential messages queue behind it and we would measure the limiter, not this code.
// Measured in one run on this machine:
//   1. latency, one message at a time (message dispatched → reply POST arrives at the fake), with an
//      instant stub brain: our added cost, plus discord.js and the fake's own JSON/WebSocket/HTTP;
//   2. the same with the real ClaudeBrain against the local Anthropic fake answering at once;
//   3. a burst of 1,000 at once: dropped messages (goal 0) and throughput, with discord.js's global
//      REST limiter lifted and at its default of 50 requests/s (Discord's limit for a bot);
//   4. RSS and heap growth over 10,000 more messages, after a GC at both ends.
import { openSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Brain } from "../agent/brain/types.ts";
import { BUILTIN_COMMANDS } from "../agent/commands/builtin.ts";
import { parseConfig } from "../agent/config/load.ts";
import { createLogger, ScrubbingSink } from "../agent/log.ts";
import { startRouting } from "../agent/router.ts";
import type { StatusReport } from "../agent/status.ts";
import { DiscordTransport } from "../agent/transport/discord.ts";
import { startAnthropicFake } from "../test/fakes/anthropic/server.ts";
import { startDiscordFake, type DiscordFake } from "../test/fakes/discord/index.ts";
import { makeBrain } from "../test/brain/harness.ts";
import { alice, CONFIG, GUILDS, TEST_CHANNEL } from "../test/discord/harness.ts";

const LATENCY_MESSAGES = 1_000;
const BURST_MESSAGES = 1_000;
const RSS_MESSAGES = 10_000;
const RSS_BATCH = 250;
const GOAL_P99_MS = 20;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const instantBrain: Brain = {
  status: { name: "anthropic", state: "configured", detail: "instant stub" },
  async respond(message) {
    return { text: `ok: ${message.text}` };
  },
};

interface Rig {
  readonly fake: DiscordFake;
  close(): Promise<void>;
}

/** `globalRequestsPerSecond`: discord.js's own hold on REST calls (Discord's 50/s per bot by default). */
async function rig(brain: Brain, globalRequestsPerSecond: number): Promise<Rig> {
  const fake = await startDiscordFake({ guilds: GUILDS });
  // Rate limits opened wide: this measures the pipeline, not the limiter's refusals.
  const config = parseConfig(
    { ...CONFIG, logLevel: "info", rateLimits: { perUser: { burst: 1e9, perMinute: 1e9 }, perChannel: { burst: 1e9, perMinute: 1e9 } } },
    "bench",
  );
  const log = createLogger({ level: config.logLevel, sink: new ScrubbingSink(openSync("/dev/null", "w")), name: config.instance });
  const transport = new DiscordTransport({
    token: fake.token,
    apiBase: fake.apiBase,
    discord: config.discord,
    instance: config.instance,
    commands: BUILTIN_COMMANDS,
    log,
    globalRequestsPerSecond,
  });
  const status = (): StatusReport => ({
    instance: config.instance,
    version: "bench",
    transport: transport.name,
    configSource: "bench",
    startedAt: new Date(),
    integrations: [transport.status(), brain.status],
  });
  await startRouting({ transport, config, commands: BUILTIN_COMMANDS, brain, log, status });
  return {
    fake,
    async close() {
      await transport.stop();
      await fake.close();
    },
  };
}

function send(fake: DiscordFake, i: number): string {
  return fake.sendMessage({ author: alice, channelId: TEST_CHANNEL, content: `message ${i}: what is the deploy status?`, mentionBot: true });
}

/** One message at a time; returns each message's dispatch → reply-POST time in ms. */
async function latencies(fake: DiscordFake, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const id = send(fake, i);
    await fake.waitFor(() => fake.posts.at(-1)?.replyTo === id, 10_000, `reply to message ${i}`);
    out.push((fake.posts.at(-1)?.arrivedAt ?? Number.NaN) - started);
    if (i % 100 === 99) fake.clearRecords();
  }
  return out;
}

/** Sends `count` at once; resolves with how many got no reply within the timeout. */
async function burst(fake: DiscordFake, count: number, timeoutMs: number): Promise<{ dropped: number; ms: number }> {
  fake.clearRecords();
  const started = performance.now();
  const ids = new Set(Array.from({ length: count }, (_, i) => send(fake, i)));
  const answered = (): number => fake.posts.filter((p) => p.replyTo !== undefined && ids.has(p.replyTo)).length;
  await fake.waitFor(() => answered() >= count, timeoutMs, "every reply").catch(() => undefined);
  const ms = performance.now() - started;
  const dropped = count - answered();
  fake.clearRecords();
  return { dropped, ms };
}

const percentile = (xs: readonly number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const row = (label: string, xs: readonly number[]): string =>
  `  ${label.padEnd(34)} p50 ${percentile(xs, 50).toFixed(2)} ms   p99 ${percentile(xs, 99).toFixed(2)} ms   max ${Math.max(...xs).toFixed(2)} ms`;

console.log(`bench/discord (node ${process.version}, discord.js against the local Discord fake, same process)`);

// 1 and 3 and 4: the instant brain, discord.js's global REST limiter lifted.
const instant = await rig(instantBrain, Number.POSITIVE_INFINITY);
await latencies(instant.fake, 100); // warm-up, not counted
const stub = await latencies(instant.fake, LATENCY_MESSAGES);
const stubBurst = await burst(instant.fake, BURST_MESSAGES, 60_000);
gc();
const before = process.memoryUsage();
/** RSS after each quarter: a leak keeps climbing, allocator warm-up levels off. */
const checkpoints: number[] = [];
for (let sent = 0; sent < RSS_MESSAGES; sent += RSS_BATCH) {
  const { dropped } = await burst(instant.fake, RSS_BATCH, 30_000);
  if (dropped > 0) throw new Error(`${dropped} messages dropped in the RSS run`);
  if ((sent + RSS_BATCH) % (RSS_MESSAGES / 4) === 0) {
    gc();
    checkpoints.push(process.memoryUsage().rss);
  }
}
gc();
const after = process.memoryUsage();
await instant.close();

// 3b: the same burst with discord.js's default limiter, which is what production runs with.
const limited = await rig(instantBrain, 50);
const limitedBurst = await burst(limited.fake, BURST_MESSAGES, 120_000);
await limited.close();

// 2: the real brain against the Anthropic fake (echoes at once).
const anthropic = await startAnthropicFake();
const { brain: claude } = await makeBrain(anthropic.baseUrl, { instance: "CLAWDINATOR-1" });
const real = await rig(claude, Number.POSITIVE_INFINITY);
await latencies(real.fake, 50);
const claudeLatencies = await latencies(real.fake, LATENCY_MESSAGES);
const modelCalls = anthropic.requests.length;
await real.close();
await anthropic.close();

console.log(`latency, message dispatched by the gateway → reply POST received (${LATENCY_MESSAGES} sequential messages)`);
console.log(row("instant stub brain:", stub));
console.log(row("ClaudeBrain + local Anthropic fake:", claudeLatencies));
console.log(`  (${modelCalls} model requests reached the Anthropic fake, incl. warm-up)`);
const p99 = percentile(stub, 99);
console.log(`  goal p99 overhead < ${GOAL_P99_MS} ms (instant brain): ${p99 < GOAL_P99_MS ? "met" : "MISSED"}`);
console.log(`burst of ${BURST_MESSAGES} at once into one channel (answered in order, one conversation), instant brain:`);
const rate = (b: { ms: number }): string => ((BURST_MESSAGES / b.ms) * 1000).toFixed(0);
console.log(`  limiter lifted:              dropped ${stubBurst.dropped} (goal 0); all answered in ${stubBurst.ms.toFixed(0)} ms = ${rate(stubBurst)} msg/s`);
console.log(`  discord.js default (50/s):   dropped ${limitedBurst.dropped} (goal 0); all answered in ${limitedBurst.ms.toFixed(0)} ms = ${rate(limitedBurst)} msg/s`);
console.log(`memory over ${RSS_MESSAGES} more messages (GC before and after; the fake's records cleared as it goes):`);
console.log(`  RSS ${mb(before.rss)} → ${mb(after.rss)} (${after.rss >= before.rss ? "+" : ""}${mb(after.rss - before.rss)})`);
console.log(`  RSS after each ${RSS_MESSAGES / 4}: ${checkpoints.map(mb).join(", ")}`);
console.log(
  `  external + array buffers ${mb(before.external + before.arrayBuffers)} → ${mb(after.external + after.arrayBuffers)}`,
);
console.log(
  `  heap used ${mb(before.heapUsed)} → ${mb(after.heapUsed)} (${after.heapUsed >= before.heapUsed ? "+" : ""}${mb(after.heapUsed - before.heapUsed)})`,
);
