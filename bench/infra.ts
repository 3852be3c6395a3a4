// bench/infra: time to evaluate the whole Pulumi program under mocks: the fleet stack, then 1, 10
// and 50 clawdinator-<n> stacks reading its outputs. Per-instance cost should stay flat (no stack
// does work proportional to the fleet's size). One process, sequential, after one warm-up run.
import { fleetConfig, instanceConfig, runStack } from "../test/infra/harness.ts";

const SIZES = [1, 10, 50];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function timeFleet(): Promise<{ ms: number; outputs: Record<string, unknown>; resources: number }> {
  const started = performance.now();
  const run = await runStack({ stack: "fleet", config: fleetConfig() });
  return { ms: performance.now() - started, outputs: { ...run.outputs }, resources: run.resources.length };
}

async function timeInstances(count: number, fleetOutputs: Record<string, unknown>): Promise<{ ms: number; resources: number }> {
  const started = performance.now();
  let resources = 0;
  for (let n = 1; n <= count; n++) {
    const run = await runStack({ stack: `clawdinator-${n}`, config: instanceConfig(), secretKeys: ["clawdinators:ageIdentity"], fleetOutputs });
    resources += run.resources.length;
  }
  return { ms: performance.now() - started, resources };
}

const warm = await timeFleet();
await timeInstances(1, warm.outputs);

const fleetTimes: number[] = [];
for (let i = 0; i < 5; i++) fleetTimes.push((await timeFleet()).ms);
console.log(`infra under mocks (node ${process.version})`);
console.log(`  fleet stack: ${median(fleetTimes).toFixed(0)} ms (median of 5), ${warm.resources} resources`);

const perInstance = new Map<number, number>();
for (const size of SIZES) {
  const { ms, resources } = await timeInstances(size, warm.outputs);
  perInstance.set(size, ms / size);
  console.log(`  fleet of ${String(size).padStart(2)}: ${ms.toFixed(0).padStart(6)} ms for ${size} instance stacks (${resources} resources), ${(ms / size).toFixed(1)} ms per instance`);
}
const first = perInstance.get(SIZES[0] as number) ?? Number.NaN;
const last = perInstance.get(SIZES[SIZES.length - 1] as number) ?? Number.NaN;
console.log(`  per-instance cost, ${SIZES.at(-1)} vs ${SIZES[0]}: ${(last / first).toFixed(2)}x (flat is ~1.0)`);
