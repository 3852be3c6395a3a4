import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { runCommandLine } from "../../cli/command-line.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "cli/clawdinator.js");

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SpawnOptions {
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Called once stdout has printed something matching; lets a test send a signal mid-run. */
  readonly onStdout?: (soFar: string, child: ReturnType<typeof spawn>) => void;
  /** Keep stdin open instead of ending it after `input`. */
  readonly keepStdinOpen?: boolean;
  readonly timeoutMs?: number;
}

/** Runs a command to completion and captures everything it printed. */
export function run(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<Finished> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...cleanEnv(), ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    options.onStdout?.(stdout, child);
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  if (options.input !== undefined) child.stdin.write(options.input);
  if (!options.keepStdinOpen) child.stdin.end();
  const timeout = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timeout);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs the real `clawdinator` entry under the current node. */
export function runCli(args: readonly string[], options: SpawnOptions = {}): Promise<Finished> {
  return run(process.execPath, [CLI, ...args], options);
}

/**
 * The same command line in this process, through the same dispatch, option parsing, error messages
 * and exit codes as the real entry, with streams of its own (a terminal or not). For tests of what
 * a command does: a node process costs ~0.3-1 s of CPU to start with its imports, which made the
 * spawned CLI most of the suite's time. What only the process shows (signals, logs pino writes to
 * file descriptor 2, the exit itself) stays with runCli.
 */
export async function runCliInProcess(
  args: readonly string[],
  options: Pick<SpawnOptions, "env" | "cwd" | "input" | "timeoutMs"> & { readonly terminal?: boolean } = {},
): Promise<Finished> {
  const terminal = options.terminal ?? false;
  // A command past its time is aborted the way SIGTERM aborts the real one.
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), options.timeoutMs ?? 30_000);
  const capture = (): PassThrough & { isTTY: boolean; text(): string } => {
    let text = "";
    const stream = Object.assign(new PassThrough(), { isTTY: terminal, text: () => text });
    stream.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    return stream;
  };
  const stdout = capture();
  const stderr = capture();
  const stdin = Object.assign(Readable.from(options.input === undefined ? [] : [options.input]), { isTTY: terminal });
  const code = await runCommandLine(args, {
    cwd: options.cwd ?? ROOT,
    env: { ...cleanEnv(), ...options.env },
    stdin,
    stdout,
    stderr,
    signal: controller.signal,
  }).finally(() => clearTimeout(timeout));
  // Whatever the command wrote is read out before the texts are taken.
  await Promise.all([stdout, stderr].map((stream) => finished(stream.end())));
  return { code, signal: null, stdout: stdout.text(), stderr: stderr.text() };
}

/** The parent's environment without anything that would configure the agent from outside the test. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith("CLAWDINATOR_") || key === "ANTHROPIC_API_KEY" || key === "OPENAI_API_KEY") delete env[key];
  }
  return env;
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), "clawdinator-test-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Parses stderr as pino JSON lines; throws on any line that is not JSON, so stray output is caught. */
export function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
