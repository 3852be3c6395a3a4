// bench/artifact: the agent artifact (`npm run bundle`) as an instance gets it, in one run here:
//   1. its size: every file of dist/, raw and each gzipped (goal: under 4 MB), and that no Pulumi
//      and no operator code is inside (by esbuild's list of inputs and by the text);
//   2. start-up to the first answer on a pipe (spawn, write `status`, time to the first reply
//      bytes on stdout), median of RUNS each, interleaved so machine noise hits all alike: the
//      TypeScript sources (`node cli/clawdinator.ts run`), the bundle, the bundle with a warm
//      NODE_COMPILE_CACHE, and bare `node -e 0` for scale (goal: bundle under 300 ms).
// Builds into a temp folder, so it measures the code as it is now and leaves dist/ alone.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { artifactSize, bundle, ROOT } from "../scripts/bundle.ts";

const RUNS = Number.parseInt(process.env.BENCH_RUNS ?? "15", 10);
const SIZE_GOAL = 4 * 1024 * 1024;
const START_GOAL_MS = 300;

const work = await mkdtemp(path.join(tmpdir(), "clawdinator-bench-artifact-"));
const cache = path.join(work, "compile-cache");

function timeFirstReply(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [...args, "run"], { cwd: work, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "ignore"] });
  child.stdin.end("status\n");
  return new Promise((resolve, reject) => {
    child.stdout.once("data", () => resolve(performance.now() - started));
    child.on("error", reject);
    child.on("close", (code) => code !== 0 && reject(new Error(`${args.join(" ")} exited ${code}`)));
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

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(2)} MB`;

try {
  const builtAt = performance.now();
  const built = await bundle({ outDir: path.join(work, "dist") });
  const buildMs = performance.now() - builtAt;
  const size = await artifactSize(built.outDir, built.files);
  const js = built.files.filter((file) => file.endsWith(".mjs"));
  const jsSize = await artifactSize(built.outDir, js);

  const operatorInputs = Object.keys(built.metafile.inputs).filter((input) => /(?:^|\/)(?:@pulumi|infra|providers)\//.test(input));
  let pulumiText = 0;
  for (const file of js) if (/@pulumi/i.test(await readFile(path.join(built.outDir, file), "utf8"))) pulumiText += 1;

  console.log(`artifact (node ${process.version}; built in ${buildMs.toFixed(0)} ms)`);
  console.log(`  dist/: ${built.files.length} files (${js.length} .mjs, ${built.files.length - js.length} assets), ${mb(size.bytes)}, ${mb(size.gzipped)} gzipped per file`);
  console.log(`  JavaScript alone: ${mb(jsSize.bytes)}, ${mb(jsSize.gzipped)} gzipped; goal < ${mb(SIZE_GOAL)}: ${size.bytes < SIZE_GOAL ? "met" : "MISSED"}`);
  console.log(`  Pulumi or operator sources inside: ${operatorInputs.length === 0 && pulumiText === 0 ? "none" : `YES (${operatorInputs.length} inputs, ${pulumiText} files mention @pulumi)`}`);

  const sourceArgs = [path.join(ROOT, "cli/clawdinator.ts")];
  const bundleArgs = [built.entry];
  const cached = { NODE_COMPILE_CACHE: cache };
  // Not counted: warm the file cache, seed the memory folder once, and fill the compile cache.
  await timeFirstReply(sourceArgs);
  await timeFirstReply(bundleArgs);
  await timeFirstReply(bundleArgs, cached);

  const sources: number[] = [];
  const bundled: number[] = [];
  const bundledCached: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    sources.push(await timeFirstReply(sourceArgs));
    bundled.push(await timeFirstReply(bundleArgs));
    bundledCached.push(await timeFirstReply(bundleArgs, cached));
    bare.push(await timeBareNode());
  }
  const [s, b, c, n] = [median(sources), median(bundled), median(bundledCached), median(bare)];
  const best = Math.min(b, c);
  console.log(`start-up, spawn -> first reply to \`status\` on a pipe (median of ${RUNS})`);
  console.log(`  TypeScript sources:                 ${s.toFixed(0)} ms`);
  console.log(`  bundle:                             ${b.toFixed(0)} ms  (sources/bundle ${(s / b).toFixed(2)}x)`);
  console.log(`  bundle, warm NODE_COMPILE_CACHE:    ${c.toFixed(0)} ms  (sources/bundle ${(s / c).toFixed(2)}x)`);
  console.log(`  bare node -e 0:                     ${n.toFixed(0)} ms  (the bundle's own cost: ${(best - n).toFixed(0)} ms)`);
  console.log(`  goal < ${START_GOAL_MS} ms for the bundle: ${best < START_GOAL_MS ? "met" : "MISSED"}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
