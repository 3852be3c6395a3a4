/**
 * A coding service as the agent builds it: the real OpenAI coder (the `openai` SDK) against the
 * local Responses fake, the real bubblewrap sandbox, and a seed repository in a temp folder.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { OpenAICoder, type CoderLimits } from "../../agent/coding/coder.ts";
import { CodingService, type CodingServiceOptions } from "../../agent/coding/service.ts";
import { makeWorkRoot, SandboxRunner } from "../../agent/sandbox/runner.ts";
import { InMemoryStore } from "../brain/harness.ts";
import { reply, startOpenAIFake, type OpenAIFake } from "../fakes/openai/server.ts";

export const API_KEY = "sk-coding-test";

export const TEST_CODER_LIMITS: CoderLimits = {
  maxSteps: 12,
  maxTokens: 200_000,
  maxOutputTokens: 2_000,
  taskTimeoutMs: 60_000,
  requestTimeoutMs: 10_000,
  maxRetries: 2,
  stream: false,
};

export interface CodingHarness {
  readonly openai: OpenAIFake;
  readonly sandbox: SandboxRunner;
  readonly service: CodingService;
  readonly memory: InMemoryStore;
  /** The seed repository `demo` (README.md, hello.py). */
  readonly seed: string;
  readonly workspace: string;
  readonly workRoot: string;
  readonly logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startCodingHarness(
  options: { limits?: Partial<CoderLimits>; applyWorkspace?: boolean; service?: Partial<CodingServiceOptions> } = {},
): Promise<CodingHarness> {
  const base = await mkdtemp(path.join(tmpdir(), "clawdinator-coding-test-"));
  const seed = path.join(base, "seed");
  await mkdir(seed);
  await writeFile(path.join(seed, "README.md"), "# demo\n\nA tiny repository for coding tests.\n");
  await writeFile(path.join(seed, "hello.py"), "print('hello')\n");
  await mkdir(path.join(seed, ".git"));
  await writeFile(path.join(seed, ".git", "config"), "[core]\n\tfsmonitor = touch /tmp/pwned-by-fsmonitor\n");
  const workspace = path.join(base, "workspace");
  await mkdir(workspace);
  await writeFile(path.join(workspace, "SOUL.md"), "# Soul\n\nI am terse.\n");
  const workRoot = path.join(base, "tasks");
  const sandbox = await SandboxRunner.open({ limits: { wallTimeMs: 20_000 } });
  await makeWorkRoot(base, sandbox.owner);
  await makeWorkRoot(workRoot, sandbox.owner);
  const openai = await startOpenAIFake({ apiKey: API_KEY });
  const logs: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: "debug" },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
        done();
      },
    }),
  );
  const coder = new OpenAICoder({
    apiKey: API_KEY,
    baseURL: openai.baseUrl,
    model: "gpt-5-codex",
    limits: { ...TEST_CODER_LIMITS, ...options.limits },
    sandbox,
    log,
  });
  const memory = new InMemoryStore();
  const service = new CodingService({
    coder,
    sandbox,
    workRoot,
    repos: { demo: seed },
    defaultTarget: "demo",
    workspace: { dir: workspace, apply: options.applyWorkspace ?? true },
    memory,
    log,
    ...options.service,
  });
  return {
    openai,
    sandbox,
    service,
    memory,
    seed,
    workspace,
    workRoot,
    logs,
    async close() {
      await openai.close();
      await sandbox.close();
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** The fake model's side of the happy path: look, write a program and its test, run the test, summarise. */
export function scriptGreeting(openai: OpenAIFake): void {
  openai.enqueue(
    reply.call("list_files", { path: null }),
    reply.call("write_file", { path: "greet.py", content: "def greet(name):\n    return f'Hello, {name}!'\n" }),
    reply.call("write_file", {
      path: "tests/test_greet.py",
      content: "import sys\nsys.path.insert(0, '.')\nfrom greet import greet\nassert greet('Ada') == 'Hello, Ada!'\nprint('ok: 1 test passed')\n",
    }),
    reply.call("run_command", { command: "python3 -B tests/test_greet.py" }),
    reply.text("Added greet() in greet.py with a test in tests/test_greet.py.\n`python3 -B tests/test_greet.py` passes."),
  );
}
