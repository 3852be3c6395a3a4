// bench/sandbox: what a sandboxed command costs over running it plainly, on this machine.
// Each round runs the same command both ways, alternating (plain `/bin/sh -c CMD` through
// child_process, then the same through SandboxRunner.run: bwrap with every namespace, prlimit,
// the generated /etc, output capture), and reports the medians and p95s, the added milliseconds and
// the ratio. Goal (docs/SANDBOX.md): under 20 ms added per run.
//
//   node bench/sandbox.ts                 (BENCH_RUNS=200, BENCH_COMMAND="true" to change)
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeWorkRoot, SandboxRunner } from "../agent/sandbox/runner.ts";

const RUNS = Number.parseInt(process.env.BENCH_RUNS ?? "200", 10);
const COMMANDS = process.env.BENCH_COMMAND ? [process.env.BENCH_COMMAND] : ["true", "echo hello; ls -la > /dev/null", "python3 -c 'print(1)'"];

function plain(command: string, cwd: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], { cwd, env: { PATH: "/usr/bin:/bin" }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.resume();
    child.stderr.resume();
    child.once("error", reject);
    child.once("close", () => resolve(performance.now() - started));
  });
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

const runner = await SandboxRunner.open();
const root = await mkdtemp(path.join(tmpdir(), "clawdinator-bench-sandbox-"));
try {
  await makeWorkRoot(root, runner.owner);
  const work = path.join(root, "work");
  await mkdir(work);
  await runner.prepareWorkDir(work);
  console.log(`sandbox bench: ${RUNS} runs per command, node ${process.version}, bwrap as ${runner.dropsPrivileges ? "uid 65534 (agent is root)" : "the agent's uid"}`);
  for (const command of COMMANDS) {
    // Warm both paths (page cache, first exec).
    for (let i = 0; i < 5; i++) {
      await plain(command, work);
      await runner.run({ workDir: work, command });
    }
    const bare: number[] = [];
    const boxed: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(await plain(command, work));
      const result = await runner.run({ workDir: work, command });
      if (result.end !== "exited" || result.exitCode !== 0) throw new Error(`sandboxed run failed: ${result.end} ${result.exitCode} ${result.output}`);
      boxed.push(result.durationMs);
    }
    bare.sort((a, b) => a - b);
    boxed.sort((a, b) => a - b);
    const b50 = quantile(bare, 0.5);
    const s50 = quantile(boxed, 0.5);
    console.log(
      `  ${JSON.stringify(command)}: plain median ${b50.toFixed(1)} ms (p95 ${quantile(bare, 0.95).toFixed(1)}), ` +
        `sandboxed median ${s50.toFixed(1)} ms (p95 ${quantile(boxed, 0.95).toFixed(1)}); ` +
        `added ${(s50 - b50).toFixed(1)} ms (p95 ${(quantile(boxed, 0.95) - quantile(bare, 0.95)).toFixed(1)}), ratio ${(s50 / b50).toFixed(2)}x`,
    );
  }
} finally {
  await runner.close();
  await rm(root, { recursive: true, force: true });
}
