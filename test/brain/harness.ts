import { Writable } from "node:stream";
import { after, before, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { ClaudeBrain, type BrainLimits, type ClaudeBrainOptions } from "../../agent/brain/claude.ts";
import { buildSystemPrompt } from "../../agent/brain/prompt.ts";
import { loadWorkspace, SHIPPED_WORKSPACE } from "../../agent/brain/workspace.ts";
import type { MemoryStore } from "../../agent/memory/types.ts";
import type { StatusReport } from "../../agent/status.ts";
import { builtinToolRegistry } from "../../agent/tools/index.ts";
import type { Tool } from "../../agent/tools/registry.ts";
import type { IncomingMessage, MessageOrigin } from "../../agent/transport/types.ts";
import { startAnthropicFake, type AnthropicFake, type RecordedRequest } from "../fakes/anthropic/server.ts";

/**
 * A small in-memory MemoryStore for the brain's unit tests: the brain only needs the interface.
 * (The real store, on disk with locks, is tested by the memory module's own tests and by the
 * end-to-end run here.)
 */
export class InMemoryStore implements MemoryStore {
  readonly root = "memory:";
  readonly files = new Map<string, string>();
  writes = 0;

  async read(p: string): Promise<string | undefined> {
    return this.files.get(p);
  }
  async write(p: string, content: string): Promise<void> {
    this.writes++;
    this.files.set(p, content);
  }
  async append(p: string, text: string): Promise<void> {
    this.writes++;
    this.files.set(p, `${this.files.get(p) ?? ""}${text.endsWith("\n") ? text : `${text}\n`}`);
  }
  async edit(p: string, fn: (current: string) => string | Promise<string>): Promise<string> {
    const next = await fn(this.files.get(p) ?? "");
    await this.write(p, next);
    return next;
  }
  async list(prefix = ""): Promise<string[]> {
    return [...this.files.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async claim(): Promise<boolean> {
    return true;
  }
  snapshot(): string {
    return JSON.stringify([...this.files.entries()].sort());
  }
}

export const TEST_LIMITS: BrainLimits = {
  maxSteps: 6,
  contextMessages: 20,
  contextChars: 24_000,
  maxOutputTokens: 512,
  timeoutMs: 5_000,
  maxRetries: 2,
  turnTimeoutMs: 30_000,
};

export const FIXED_NOW = new Date("2026-11-24T13:37:00Z");
export { dailyNotePath as dailyNote } from "../../agent/memory/daily.ts";

export interface TestBrain<M extends MemoryStore = InMemoryStore> {
  readonly brain: ClaudeBrain;
  readonly memory: M;
  /** Log lines the brain wrote, parsed. */
  readonly logs: Array<Record<string, unknown>>;
}

/** A ClaudeBrain on the shipped workspace, talking to `baseURL`; an in-memory store unless one is given. */
export async function makeBrain<M extends MemoryStore = InMemoryStore>(
  baseURL: string,
  overrides: { limits?: Partial<BrainLimits>; instance?: string; extraTools?: readonly Tool[]; memory?: M } & Partial<
    Pick<ClaudeBrainOptions, "scrub" | "apiKey" | "model">
  > = {},
): Promise<TestBrain<M>> {
  const instance = overrides.instance ?? "CLAWDINATOR-3";
  const workspace = await loadWorkspace(SHIPPED_WORKSPACE, instance);
  // Without a store given, M is its default, InMemoryStore.
  const memory = overrides.memory ?? (new InMemoryStore() as MemoryStore as M);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const status = (): StatusReport => ({
    instance,
    version: "0.0.0-test",
    transport: "test",
    configSource: "test",
    startedAt: FIXED_NOW,
    integrations: [{ name: "anthropic", state: "configured", detail: "fake" }],
  });
  const brain = new ClaudeBrain({
    apiKey: overrides.apiKey ?? "sk-test",
    baseURL,
    model: overrides.model ?? "claude-test-voice",
    instance,
    systemPrompt: buildSystemPrompt(workspace, 3_000),
    tools: builtinToolRegistry(overrides.extraTools),
    memory,
    status,
    log: pino({ level: "debug" }, sink),
    limits: { ...TEST_LIMITS, ...overrides.limits },
    now: () => FIXED_NOW,
    random: () => 0,
    ...(overrides.scrub ? { scrub: overrides.scrub } : {}),
  });
  return { brain, memory, logs };
}

let sequence = 0;

export function message(
  text: string,
  options: { conversation?: string; origin?: MessageOrigin; author?: string; context?: IncomingMessage["context"] } = {},
): IncomingMessage {
  sequence++;
  const author = options.author ?? "sarah";
  return {
    id: `m${sequence}`,
    text,
    author: { id: `id-${author}`, name: author, roleIds: [] },
    conversation: options.conversation ?? "guild:1/channel:10",
    origin: options.origin ?? "guild",
    addressed: true,
    channelId: "10",
    receivedAt: FIXED_NOW,
    ...(options.context ? { context: options.context } : {}),
  };
}

export interface SuiteFake {
  /** The fake, once the suite's `before` has started it. */
  readonly fake: AnthropicFake;
  /** The requests the running test made. */
  newRequests(): RecordedRequest[];
}

/**
 * One Anthropic fake for the calling describe block: started before its tests, closed after them.
 * Each test must use every reply it scripted, so a leftover cannot answer the next test.
 */
export function anthropicFakeForSuite(): SuiteFake {
  let started: AnthropicFake | undefined;
  let seen = 0;
  const fake = (): AnthropicFake => {
    if (!started) throw new Error("the suite's Anthropic fake is started in before(); use it inside a test");
    return started;
  };
  before(async () => {
    started = await startAnthropicFake({ apiKey: "sk-test" });
  });
  after(() => started?.close());
  beforeEach(() => {
    seen = fake().requests.length;
    assert.equal(fake().pending(), 0, "the previous test used every scripted reply");
  });
  return {
    get fake() {
      return fake();
    },
    newRequests: () => fake().requests.slice(seen),
  };
}
