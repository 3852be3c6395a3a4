// bench/artifact: the agent artifact (`npm run bundle`) as an instance gets it, in one run here:
//   1. its size: every file of dist/, raw and each gzipped (goal: under 4 MB), and that no Pulumi
//      and no operator code is inside (by esbuild's list of inputs and by the text);
//   2. start-up to the first answer on a pipe (spawn, write `status`, time to the first reply
//      bytes on stdout), median of RUNS each, interleaved so machine noise hits all alike: the
//      TypeScript sources (`node cli/clawdinator.js run`) and the bundle, each with a warm compile
//      cache (the CLI enables it; NODE_COMPILE_CACHE names a folder of this bench's own) and with
//      none (NODE_DISABLE_COMPILE_CACHE=1: a first start), and bare `node -e 0` for scale (goal:
//      bundle under 300 ms).
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

  const variants = [
    { name: "TypeScript sources, no compile cache", args: [path.join(ROOT, "cli/clawdinator.js")], env: { NODE_DISABLE_COMPILE_CACHE: "1" } },
    { name: "TypeScript sources, warm compile cache", args: [path.join(ROOT, "cli/clawdinator.js")], env: { NODE_COMPILE_CACHE: path.join(cache, "sources") } },
    { name: "bundle, no compile cache", args: [built.entry], env: { NODE_DISABLE_COMPILE_CACHE: "1" } },
    { name: "bundle, warm compile cache", args: [built.entry], env: { NODE_COMPILE_CACHE: path.join(cache, "bundle") } },
  ] as const;
  // Not counted: warm the file cache, seed the memory folder once, and fill the compile caches.
  for (const variant of variants) await timeFirstReply(variant.args, variant.env);

  const samples = variants.map(() => [] as number[]);
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    for (const [index, variant] of variants.entries()) samples[index]?.push(await timeFirstReply(variant.args, variant.env));
    bare.push(await timeBareNode());
  }
  const [sourcesCold = 0, sourcesWarm = 0, bundleCold = 0, bundleWarm = 0] = samples.map(median);
  const n = median(bare);
  console.log(`start-up, spawn -> first reply to \`status\` on a pipe (median of ${RUNS}, interleaved)`);
  for (const [index, variant] of variants.entries()) console.log(`  ${`${variant.name}:`.padEnd(40)} ${median(samples[index] ?? []).toFixed(0)} ms`);
  console.log(`  ${"bare node -e 0:".padEnd(40)} ${n.toFixed(0)} ms`);
  console.log(`  sources/bundle: ${(sourcesCold / bundleCold).toFixed(2)}x with no cache, ${(sourcesWarm / bundleWarm).toFixed(2)}x with warm caches`);
  console.log(`  the bundle's own cost over bare node: ${(bundleCold - n).toFixed(0)} ms cold, ${(bundleWarm - n).toFixed(0)} ms warm`);
  console.log(`  goal < ${START_GOAL_MS} ms for the bundle: ${bundleWarm < START_GOAL_MS ? "met" : "MISSED"} warm, ${bundleCold < START_GOAL_MS ? "met" : "MISSED"} cold`);
} finally {
  await rm(work, { recursive: true, force: true });
}
