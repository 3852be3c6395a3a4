import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const WORKERS = path.join(path.dirname(fileURLToPath(import.meta.url)), "workers");

export interface Worker {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves when stdout has printed `line` (e.g. "ready", "holding"). */
  waitFor(line: string): Promise<void>;
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
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const waiter of [...waiters]) {
      if (stdout.split("\n").includes(waiter.line)) {
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
  return {
    child,
    finished,
    waitFor: (line) =>
      stdout.split("\n").includes(line)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ line, resolve });
            void finished.then((f) => reject(new Error(`worker ${script} exited (${f.code ?? f.signal}) before printing "${line}": ${f.stderr}`)));
          }),
  };
}

/** Starts `count` workers, waits until all are at the start barrier, releases them at once, and waits for all to finish. */
export async function race(count: number, script: string, argsFor: (index: number) => readonly string[], env: (index: number) => Record<string, unknown> = () => ({})) {
  const workers = Array.from({ length: count }, (_, i) => startWorker(script, argsFor(i), { env: env(i) }));
  await Promise.all(workers.map((w) => w.waitFor("ready")));
  for (const worker of workers) worker.child.stdin.end("go\n");
  return Promise.all(workers.map((w) => w.finished));
}
