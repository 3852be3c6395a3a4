// bench/startup: time from spawn to the first reply of a local run, beside bare `node -e 0`,
// both measured here in one run. Median of RUNS each, interleaved so machine noise hits both.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Number.parseInt(process.env.BENCH_RUNS ?? "15", 10);

function timeFirstReply(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, "cli/clawdinator.js"), "run"], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "ignore"],
  });
  child.stdin.end("status\n");
  return new Promise((resolve, reject) => {
    child.stdout.once("data", () => resolve(performance.now() - started));
    child.on("error", reject);
    child.on("close", (code) => code !== 0 && reject(new Error(`agent exited ${code}`)));
  });
}

function timeBareNode(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", () => resolve(performance.now() - started));
  });
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const agent: number[] = [];
const bare: number[] = [];
await timeFirstReply(); // warm the file cache once; not counted
for (let i = 0; i < RUNS; i++) {
  agent.push(await timeFirstReply());
  bare.push(await timeBareNode());
}
const a = median(agent);
const b = median(bare);
console.log(`startup (median of ${RUNS}, node ${process.version})`);
console.log(`  spawn -> first reply, local mode: ${a.toFixed(0)} ms`);
console.log(`  bare node -e 0:                   ${b.toFixed(0)} ms`);
console.log(`  ratio agent/bare: ${(a / b).toFixed(2)}x; agent's own cost: ${(a - b).toFixed(0)} ms; target < 300 ms: ${a < 300 ? "met" : "MISSED"}`);
