// bench/discord: maintainer messages through the local Discord fake (real discord.js on both the
// gateway and REST side) into DiscordTransport → AccessControl → Router → brain → reply POST.
// discord.js's global REST limiter (50 requests/s) is lifted for the in-process latency runs: with
// it, sequential messages queue behind it and we would measure the limiter, not this code.
// Measured in one run on this machine:
//   1. latency, one message at a time (message dispatched → reply POST arrives at the fake), with an
//      instant stub brain: our added cost, plus discord.js and the fake's own JSON/WebSocket/HTTP;
//   2. the same with the real ClaudeBrain against the local Anthropic fake answering at once;
//   3. a burst of 1,000 at once: dropped messages (goal 0) and throughput, with discord.js's global
//      REST limiter lifted and at its default of 50 requests/s (Discord's limit for a bot);
//   4. the agent's memory through the real entry: `clawdinator run` in its own process, on Discord
//      with the Anthropic key set (the real brain against the local Anthropic fake), paced messages,
//      RSS read from outside, no garbage collection forced: once with V8's default heap, once with
//      the heap cap the NixOS unit sets (--max-old-space-size=128). V8 keeps committed pages for
//      ordinary garbage, so a forced GC before each sample would hide what the process really holds.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, openSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
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
/** Messages per memory run through the real entry (one at a time, so under Discord's 50 requests/s). */
const RSS_MESSAGES = Number.parseInt(process.env.BENCH_RSS_MESSAGES ?? "3000", 10);
const RSS_SAMPLES = 6;
const GOAL_P99_MS = 20;
/** The V8 heap cap docs/DEPLOYMENT.md gives the NixOS unit. */
const HEAP_CAP = "--max-old-space-size=128";
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

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
  const sink = new ScrubbingSink(openSync("/dev/null", "w"));
  const log = createLogger({ level: config.logLevel, sink, name: config.instance });
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
  await startRouting({ transport, config, commands: BUILTIN_COMMANDS, brain, log, status, scrub: (text) => sink.scrub(text) });
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

// 4: the real entry in its own process, default heap and capped heap.
const uncapped = await realEntryMemory([]);
const capped = await realEntryMemory([HEAP_CAP]);
console.log(`memory of \`clawdinator run\` (own process, Discord + real brain on local fakes), ${RSS_MESSAGES} messages one at a time, no forced GC:`);
for (const [label, run] of [["default V8 heap:", uncapped], [`${HEAP_CAP}:`, capped]] as const) {
  console.log(`  ${label.padEnd(28)} RSS ${run.samples.map(mb).join(" → ")}; peak ${mb(Math.max(...run.samples))}`);
  console.log(`  ${"".padEnd(28)} latency p50 ${percentile(run.latencies, 50).toFixed(1)} ms, p99 ${percentile(run.latencies, 99).toFixed(1)} ms; exit ${run.exit}`);
}

interface EntryRun {
  readonly samples: number[];
  readonly latencies: number[];
  readonly exit: string;
}

/** The agent's resident set, read from outside (Linux /proc; `ps` elsewhere). */
function rssOf(pid: number): number {
  const status = `/proc/${pid}/status`;
  if (existsSync(status)) return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(status, "utf8"))?.[1] ?? Number.NaN) * 1024;
  return Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim()) * 1024;
}

/** `clawdinator run` on the local Discord and Anthropic fakes; RSS sampled RSS_SAMPLES times. */
async function realEntryMemory(nodeFlags: readonly string[]): Promise<EntryRun> {
  const fake = await startDiscordFake({ guilds: GUILDS });
  const model = await startAnthropicFake();
  const dir = await mkdtemp(path.join(tmpdir(), "bench-discord-"));
  try {
    await writeFile(path.join(dir, "discord-token"), `${fake.token}\n`);
    await writeFile(
      path.join(dir, "config.json"),
      JSON.stringify({
        ...CONFIG,
        logLevel: "warn",
        memoryDir: path.join(dir, "memory"),
        discordTokenFile: "discord-token",
        endpoints: { discordApi: fake.apiBase, anthropic: model.baseUrl },
        rateLimits: { perUser: { burst: 1e9, perMinute: 1e9 }, perChannel: { burst: 1e9, perMinute: 1e9 } },
      }),
    );
    const child = spawn(process.execPath, [...nodeFlags, path.join(ROOT, "cli/clawdinator.js"), "run", "--config", path.join(dir, "config.json")], {
      cwd: dir,
      env: { ...process.env, ANTHROPIC_API_KEY: "sk-ant-bench" },
      stdio: ["ignore", "ignore", "ignore"],
    });
    const exited = new Promise<string>((resolve) => child.on("close", (code, signal) => resolve(String(code ?? signal))));
    await fake.waitFor(() => fake.posts.some((p) => p.content.startsWith("CLAWDINATOR-1 online.")), 60_000, "the agent's greeting");
    const pid = child.pid ?? 0;
    await latencies(fake, 100); // warm-up, not counted
    const samples = [rssOf(pid)];
    const measured: number[] = [];
    const perSample = Math.ceil(RSS_MESSAGES / (RSS_SAMPLES - 1));
    for (let sent = 0; sent < RSS_MESSAGES; sent += perSample) {
      measured.push(...(await latencies(fake, Math.min(perSample, RSS_MESSAGES - sent))));
      samples.push(rssOf(pid));
    }
    child.kill("SIGTERM");
    return { samples, latencies: measured, exit: await exited };
  } finally {
    await fake.close();
    await model.close();
    await rm(dir, { recursive: true, force: true });
  }
}
