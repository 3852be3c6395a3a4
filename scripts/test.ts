// scripts/test.ts: `npm test`. Runs the suite a folder per process, several processes at once.
//
// `node --test` alone starts a process per test file, and each of the ~90 pays Node's start-up and
// loads the same libraries again (Pulumi ~1.5 CPU-s a file in test/infra, the AWS SDK ~1 s in
// test/image). A folder's files test one concept and load the same things, so a folder's files run
// in one `node --test --test-isolation=none` process (a batch; a big folder makes a few), and a pool
// runs --jobs batches at a time, the biggest first. On a 2-core machine that cut the suite's CPU by
// about a third (CONTRIBUTING.md has the numbers). Files in one process share globals, so a test
// file keeps its hooks inside its describe()s (the linter refuses a top-level hook) and puts back
// what it changes in process.env.
//
// Each batch's report (Node's spec reporter) is printed whole when the batch ends, so reports never
// interleave; a summary of every batch closes the run. `node --test <file>` still runs one file
// alone, in its own process, as before.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { RunSummary } from "./test-summary.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SUMMARY_REPORTER = pathToFileURL(path.join(ROOT, "scripts/test-summary.ts")).href;
/** A folder with more files than this runs as several batches: test/image's 14 in one process took
 * longer than the rest of the suite beside it; split, each part loads the AWS SDK again (~1 CPU-s). */
export const MAX_FILES_PER_PROCESS = 8;
/** V8's young generation per batch process, in MiB. V8 sizes it from the machine's memory; on a
 * 2-core, 24 GiB machine a batch touched hundreds of MB of fresh pages (test/image peaked at 550 MB),
 * and system time, much of it page faults, was a third of the suite's CPU. At 8 the suite took
 * 146-151 CPU-s against 171-204 by default (4: 146-170, 2: 163), runs paired on the same machine. */
const SEMI_SPACE_MB = 8;
/** Per test, as before; a batch as a whole has no deadline (its tests each have theirs). */
const TEST_TIMEOUT_MS = 120_000;

const USAGE = `Usage: npm test [-- [--jobs N] [PATH ...]]
       node scripts/test.ts [--jobs N] [PATH ...]

Runs the *.test.ts files under each PATH (files or folders; default: test). A folder's files run in
one process (a batch; a folder of more than ${MAX_FILES_PER_PROCESS} files makes a few), N batches at a time
(default: ${defaultJobs()}, the CPU count plus one).
  --jobs N    how many batches run at once
  -h, --help  show this help
One file alone, in its own process: node --test test/<folder>/<file>.test.ts`;

/** Test files that run in one process: a folder's, or a part of a big folder's. */
export interface Batch {
  /** The folder, relative to the repository root, and which part (`test/image (2/3)`). */
  readonly name: string;
  readonly files: readonly string[];
}

interface BatchResult {
  readonly batch: Batch;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly seconds: number;
  readonly output: string;
  readonly summary: RunSummary | undefined;
}

class UsageError extends Error {}

function defaultJobs(): number {
  return availableParallelism() + 1;
}

/** The test files under each path in batches by folder, the batches with the most files first. */
export function collectBatches(paths: readonly string[], cwd: string): Batch[] {
  const files = new Set<string>();
  for (const given of paths) {
    const absolute = path.resolve(cwd, given);
    let stats;
    try {
      stats = statSync(absolute);
    } catch {
      throw new UsageError(`no such file or folder: ${given}`);
    }
    if (stats.isDirectory()) {
      for (const entry of readdirSync(absolute, { recursive: true, encoding: "utf8" })) {
        if (entry.endsWith(".test.ts") && !entry.split(path.sep).includes("node_modules")) files.add(path.join(absolute, entry));
      }
    } else {
      files.add(absolute);
    }
  }
  if (files.size === 0) throw new UsageError(`no *.test.ts files under ${paths.join(", ")}`);
  const byFolder = new Map<string, string[]>();
  for (const file of [...files].sort()) {
    const folder = path.relative(ROOT, path.dirname(file)) || ".";
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), path.relative(ROOT, file)]);
  }
  return [...byFolder]
    .flatMap(([name, folderFiles]) => split(name, folderFiles))
    .sort((a, b) => b.files.length - a.files.length || a.name.localeCompare(b.name));
}

/** A big folder runs as a few batches of about equal size, so no single one holds up the end. */
function split(name: string, files: readonly string[]): Batch[] {
  const parts = Math.ceil(files.length / MAX_FILES_PER_PROCESS);
  if (parts === 1) return [{ name, files }];
  return Array.from({ length: parts }, (_, i) => ({
    name: `${name} (${i + 1}/${parts})`,
    files: files.slice(Math.round((i * files.length) / parts), Math.round(((i + 1) * files.length) / parts)),
  }));
}

/** Runs a batch's files in one node process; resolves when it exits, with its report. */
function runBatch(batch: Batch, summaryFile: string, running: Set<ReturnType<typeof spawn>>): Promise<BatchResult> {
  const args = [
    "--test",
    "--test-isolation=none",
    `--max-semi-space-size=${SEMI_SPACE_MB}`,
    `--test-timeout=${TEST_TIMEOUT_MS}`,
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    `--test-reporter=${SUMMARY_REPORTER}`,
    `--test-reporter-destination=${summaryFile}`,
    ...batch.files,
  ];
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: topLevelEnv(), stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = ""): void => {
      running.delete(child);
      resolve({
        batch,
        code,
        signal,
        seconds: (performance.now() - started) / 1000,
        output: Buffer.concat(chunks).toString("utf8") + extra,
        summary: readSummary(summaryFile),
      });
    };
    child.once("error", (error) => finish(null, null, `could not start ${process.execPath}: ${error.message}\n`));
    child.once("close", (code, signal) => finish(code, signal));
  });
}

/** This environment, minus the marker a test runner sets for its children: each batch's process is
 * a runner of its own, even when this one runs inside a test (it would report in the parent's
 * binary protocol instead). */
function topLevelEnv(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _parentRunner, ...env } = process.env;
  return env;
}

function readSummary(file: string): RunSummary | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as RunSummary;
  } catch {
    return undefined; // the process died before the run ended: its output says why
  }
}

function passed(result: BatchResult): boolean {
  return result.code === 0 && result.summary !== undefined && result.summary.counts.failed === 0 && result.summary.counts.cancelled === 0;
}

function describeResult(result: BatchResult): string {
  const { batch, summary } = result;
  const time = `${result.seconds.toFixed(1)} s`;
  const files = `${batch.files.length} file${batch.files.length === 1 ? "" : "s"}`;
  if (summary === undefined) {
    const how = result.signal === null ? `exited ${result.code ?? "without starting"}` : `was killed by ${result.signal}`;
    return `✖ ${batch.name}: ${files}, the process ${how} before its tests ended (${time})`;
  }
  const { tests, failed, cancelled, skipped, todo } = summary.counts;
  const extras = [failed && `${failed} failed`, cancelled && `${cancelled} cancelled`, skipped && `${skipped} skipped`, todo && `${todo} todo`].filter(Boolean);
  const exit = result.code === 0 ? "" : `, exit ${result.code ?? result.signal}`;
  return `${passed(result) ? "✔" : "✖"} ${batch.name}: ${files}, ${tests} tests${extras.length > 0 ? `, ${extras.join(", ")}` : ""}${exit} (${time})`;
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: { jobs: { type: "string" }, help: { type: "boolean", short: "h" } } });
  } catch (error) {
    process.stderr.write(`scripts/test.ts: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const jobs = parsed.values.jobs === undefined ? defaultJobs() : Number(parsed.values.jobs);
  let batches: Batch[];
  try {
    if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a whole number of 1 or more, not "${parsed.values.jobs}"`);
    batches = collectBatches(parsed.positionals.length > 0 ? parsed.positionals : ["test"], process.cwd());
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`scripts/test.ts: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }

  const scratch = mkdtempSync(path.join(tmpdir(), "clawdinators-test-"));
  const running = new Set<ReturnType<typeof spawn>>();
  const stop = (signal: NodeJS.Signals): void => {
    for (const child of running) child.kill(signal);
    rmSync(scratch, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", stop).once("SIGTERM", stop);

  const started = performance.now();
  const queue = [...batches];
  let launched = 0;
  const results: BatchResult[] = [];
  try {
    await Promise.all(
      Array.from({ length: Math.min(jobs, queue.length) }, async () => {
        for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) {
          // Numbered, not named after the folder: "test/a-b" and "test/a_b" would share a name.
          const result = await runBatch(batch, path.join(scratch, `${launched++}.json`), running);
          results.push(result);
          process.stdout.write(`\n── ${batch.name} ${"─".repeat(Math.max(0, 60 - batch.name.length))}\n${result.output}${describeResult(result)}\n`);
        }
      }),
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const total = { tests: 0, passed: 0, failed: 0, cancelled: 0, skipped: 0, todo: 0 };
  for (const { summary } of results) for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += summary?.counts[key] ?? 0;
  const failedBatches = results.filter((r) => !passed(r));
  const lines = ["", `── summary: ${batches.length} batches, ${jobs} at a time ${"─".repeat(30)}`];
  for (const result of [...results].sort((a, b) => a.batch.name.localeCompare(b.batch.name))) lines.push(describeResult(result));
  for (const result of failedBatches) for (const failure of result.summary?.failures ?? []) lines.push(`  ✖ ${failure}`);
  lines.push(
    `${failedBatches.length === 0 ? "✔" : "✖"} ${total.tests} tests, ${total.passed} passed, ${total.failed} failed, ${total.cancelled} cancelled, ${total.skipped} skipped, ${total.todo} todo; ` +
      `${failedBatches.length} of ${batches.length} batches failed (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
  return failedBatches.length === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv.slice(2));
}
