// bench/infra: time (wall and CPU) to evaluate the whole Pulumi program under mocks: the fleet stack, then 1, 10
// and 50 clawdinator-<n> stacks reading its outputs. Per-instance cost should stay flat (no stack
// does work proportional to the fleet's size). One process, sequential, after one warm-up run.
import { fleetConfig, instanceConfig, runStack } from "../test/infra/harness.ts";

const SMALLEST = 1;
const LARGEST = 50;
const SIZES = [SMALLEST, 10, LARGEST];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function timeFleet(): Promise<{ ms: number; outputs: Record<string, unknown>; resources: number }> {
  const started = performance.now();
  const run = await runStack({ stack: "fleet", config: fleetConfig() });
  return { ms: performance.now() - started, outputs: { ...run.outputs }, resources: run.resources.length };
}

/** CPU milliseconds (user + system) of this process: steadier than wall time on a shared machine. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function timeInstances(count: number, fleetOutputs: Record<string, unknown>): Promise<{ ms: number; cpu: number; perStack: number[]; resources: number }> {
  const started = performance.now();
  const cpuStarted = cpuMs();
  const perStack: number[] = [];
  let resources = 0;
  for (let n = 1; n <= count; n++) {
    const stackStarted = performance.now();
    const run = await runStack({ stack: `clawdinator-${n}`, config: instanceConfig(), secretKeys: ["clawdinators:ageIdentity"], fleetOutputs });
    perStack.push(performance.now() - stackStarted);
    resources += run.resources.length;
  }
  return { ms: performance.now() - started, cpu: cpuMs() - cpuStarted, perStack, resources };
}

const warm = await timeFleet();
await timeInstances(1, warm.outputs);

const fleetTimes: number[] = [];
for (let i = 0; i < 5; i++) fleetTimes.push((await timeFleet()).ms);
console.log(`infra under mocks (node ${process.version})`);
console.log(`  fleet stack: ${median(fleetTimes).toFixed(0)} ms (median of 5), ${warm.resources} resources`);

// Per-instance cost is the median stack time within each fleet size (the machine is shared, so a
// single stack's time is noisy); a fleet of 1 is run 5 times to give it as many samples as 5.
const perInstance = new Map<number, number>();
const cpuPerInstance = new Map<number, number>();
for (const size of SIZES) {
  const repeats = size === 1 ? 5 : 1;
  const samples: number[] = [];
  let total = 0;
  let cpu = 0;
  let resources = 0;
  for (let r = 0; r < repeats; r++) {
    const run = await timeInstances(size, warm.outputs);
    samples.push(...run.perStack);
    total += run.ms;
    cpu += run.cpu;
    resources = run.resources;
  }
  perInstance.set(size, median(samples));
  cpuPerInstance.set(size, cpu / repeats / size);
  console.log(
    `  fleet of ${String(size).padStart(2)}: ${(total / repeats).toFixed(0).padStart(6)} ms for ${size} instance stacks (${resources} resources); ` +
      `per instance: median ${median(samples).toFixed(1)} ms wall, ${(cpu / repeats / size).toFixed(1)} ms CPU`,
  );
}
const first = perInstance.get(SMALLEST) ?? Number.NaN;
const last = perInstance.get(LARGEST) ?? Number.NaN;
const cpuRatio = (cpuPerInstance.get(LARGEST) ?? Number.NaN) / (cpuPerInstance.get(SMALLEST) ?? Number.NaN);
console.log(`  per-instance cost, ${LARGEST} vs ${SMALLEST}: wall ${(last / first).toFixed(2)}x, CPU ${cpuRatio.toFixed(2)}x (flat is ~1.0)`);
