/**
 * The agent's Discord side (real discord.js, DiscordTransport, and AccessControl with Router through
 * the same startRouting agent/main.ts serves with) against the local Discord fake, with a stub
 * brain that counts its calls.
 */
import type { Brain } from "../../agent/brain/types.ts";
import { BUILTIN_COMMANDS } from "../../agent/commands/builtin.ts";
import type { Command } from "../../agent/commands/types.ts";
import { parseConfig } from "../../agent/config/load.ts";
import type { Config, ConfigInput } from "../../agent/config/schema.ts";
import { createLogger, ScrubbingSink } from "../../agent/log.ts";
import { startRouting } from "../../agent/router.ts";
import type { StatusReport } from "../../agent/status.ts";
import { DiscordTransport } from "../../agent/transport/discord.ts";
import type { IncomingMessage, Reply } from "../../agent/transport/types.ts";
import { ChannelType, startDiscordFake, type DiscordFake, type FakeGuild, type FakeUser } from "../fakes/discord/index.ts";

export const GUILD = "1456350064065904867";
export const TEST_CHANNEL = "1458426982579830908";
export const OTHER_CHANNEL = "1458141495701012561";
export const THREAD = "1460000000000000001";
export const MAINTAINER_ROLE = "1457000000000000002";

export const alice: FakeUser = { id: "1457000000000000010", username: "alice" }; // maintainer by user id
export const bob: FakeUser = { id: "1457000000000000011", username: "bob" }; // maintainer by role
export const eve: FakeUser = { id: "1457000000000000012", username: "eve" }; // nobody

export const GUILDS: readonly FakeGuild[] = [
  {
    id: GUILD,
    name: "clawd",
    channels: [
      { id: TEST_CHANNEL, name: "clawdributors-test" },
      { id: OTHER_CHANNEL, name: "clawdributors" },
      { id: THREAD, name: "a thread", type: ChannelType.PublicThread, parentId: TEST_CHANNEL },
    ],
    roles: [{ id: MAINTAINER_ROLE, name: "maintainers" }],
    members: [
      { user: alice, roles: [] },
      { user: bob, roles: [MAINTAINER_ROLE] },
      { user: eve, roles: [] },
    ],
  },
];

export const CONFIG: ConfigInput = {
  logLevel: "debug",
  discord: { guilds: { [GUILD]: { requireMention: true, channels: { "clawdributors-test": { allow: true } } } } },
  access: { maintainers: { users: [alice.id], roles: [MAINTAINER_ROLE] } },
};

/** A brain that answers at once and remembers what it was asked. */
export class CountingBrain implements Brain {
  readonly status = { name: "anthropic", state: "configured", detail: "stub" } as const;
  readonly asked: IncomingMessage[] = [];
  answer: (message: IncomingMessage) => string | Promise<string> = (m) => `answer to: ${m.text}`;

  async respond(message: IncomingMessage): Promise<Reply> {
    this.asked.push(message);
    return { text: await this.answer(message) };
  }
}

class RecordingSink extends ScrubbingSink {
  readonly lines: Array<Record<string, unknown>> = [];
  override write(line: string): void {
    this.lines.push(JSON.parse(this.scrub(line)) as Record<string, unknown>);
  }
}

export interface Harness {
  readonly fake: DiscordFake;
  readonly brain: CountingBrain;
  readonly transport: DiscordTransport;
  readonly config: Config;
  readonly logs: Array<Record<string, unknown>>;
  /** Polls the agent's log (it is not a fake event) until a line matches. */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * `agentBrain` replaces the counting stub as what the router answers with (a real ClaudeBrain against
 * the Anthropic fake, in the authority tests); `brain` then sees nothing.
 */
export async function startHarness(
  overrides: Partial<ConfigInput> = {},
  commands: readonly Command[] = BUILTIN_COMMANDS,
  agentBrain?: Brain,
): Promise<Harness> {
  const fake = await startDiscordFake({ guilds: GUILDS });
  const config = parseConfig({ ...CONFIG, ...overrides }, "test");
  const sink = new RecordingSink();
  sink.addSecrets([fake.token]);
  const log = createLogger({ level: config.logLevel, sink, name: config.instance });
  const brain = new CountingBrain();
  const transport = new DiscordTransport({
    token: fake.token,
    apiBase: fake.apiBase,
    discord: config.discord,
    instance: config.instance,
    commands,
    log: log.child({ component: "discord" }),
    random: () => 0,
    typingAfterMs: 20,
    deferAfterMs: 20,
  });
  const status = (): StatusReport => ({
    instance: config.instance,
    version: "test",
    transport: transport.name,
    configSource: "test",
    startedAt: new Date(),
    integrations: [transport.status(), brain.status],
  });
  try {
    await startRouting({ transport, config, commands, brain: agentBrain ?? brain, log, status, scrub: (text) => sink.scrub(text) });
  } catch (error) {
    await fake.close();
    throw error;
  }
  return {
    fake,
    brain,
    transport,
    config,
    logs: sink.lines,
    async waitForLog(predicate, what, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!sink.lines.some(predicate)) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} in the log`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close() {
      await transport.stop();
      await fake.close();
    },
  };
}
