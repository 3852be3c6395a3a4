import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const WORKERS = path.join(path.dirname(fileURLToPath(import.meta.url)), "workers");

export interface Worker {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves when stdout has printed `line` (e.g. "ready", "holding"). */
  waitFor(line: string): Promise<void>;
  /** Resolves when stdout has printed at least `count` whole lines; with them. */
  waitForLines(count: number): Promise<string[]>;
  /** Resolves when the process has exited (and been reaped), with everything it printed. */
  readonly finished: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts `test/memory/workers/<script>` in its own node process. Killed after `timeoutMs` whatever happens. */
export function startWorker(script: string, args: readonly string[], options: { env?: Record<string, unknown>; timeoutMs?: number } = {}): Worker {
  const child = spawn(process.execPath, [path.join(WORKERS, script), ...args], {
    env: { ...process.env, MEMORY_WORKER: JSON.stringify(options.env ?? {}) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  /** The whole lines printed so far (a line is whole once its newline came). */
  const lines = (): string[] => stdout.split("\n").slice(0, -1);
  const waiters: Array<{ done: (printed: string[]) => boolean; resolve: () => void }> = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const waiter of [...waiters]) {
      if (waiter.done(lines())) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const finished = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const waitUntil = (done: (printed: string[]) => boolean, what: string): Promise<void> =>
    done(lines())
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          waiters.push({ done, resolve });
          void finished.then((f) => reject(new Error(`worker ${script} exited (${f.code ?? f.signal}) before printing ${what}: ${f.stderr}`)));
        });
  return {
    child,
    finished,
    waitFor: (line) => waitUntil((printed) => printed.includes(line), `"${line}"`),
    waitForLines: async (count) => {
      await waitUntil((printed) => printed.length >= count, `${count} lines`);
      return lines();
    },
  };
}

/** Workers that race round after round (`round`, `ready`, `go`: see workers/racer.ts), one node start each. */
export interface RacePool {
  /** One race: each worker gets its settings, all are released at once; their verdict lines, in worker order. */
  round(settings: (index: number) => Record<string, unknown>): Promise<string[]>;
  /** Ends every worker's stdin and waits for the exits. */
  close(): Promise<Array<{ code: number | null; stderr: string }>>;
}

export function startRacePool(count: number, script: string, args: readonly string[]): RacePool {
  const workers = Array.from({ length: count }, () => startWorker(script, args));
  let rounds = 0;
  return {
    async round(settings) {
      rounds++;
      // A worker prints two lines a round, "ready" and then its verdict.
      workers.forEach((worker, i) => worker.child.stdin.write(`round ${JSON.stringify(settings(i))}\n`));
      for (const printed of await Promise.all(workers.map((w) => w.waitForLines(2 * rounds - 1)))) {
        if (printed[2 * rounds - 2] !== "ready") throw new Error(`a racer printed ${JSON.stringify(printed.at(-1))} instead of "ready"`);
      }
      for (const worker of workers) worker.child.stdin.write("go\n");
      const printed = await Promise.all(workers.map((w) => w.waitForLines(2 * rounds)));
      return printed.map((lines) => lines[2 * rounds - 1] ?? "");
    },
    async close() {
      for (const worker of workers) worker.child.stdin.end();
      return Promise.all(workers.map((w) => w.finished));
    },
  };
}
