// Pulumi's entry (Pulumi.yaml `main`). `fleet` runs the shared resources, `clawdinator-<n>` one
// instance; see infra/program.ts. Pulumi calls the default export and publishes what it returns.
import * as pulumi from "@pulumi/pulumi";
import { runProgram, type ProgramContext } from "./program.ts";

// Pulumi knows which keys were set with --secret but keeps that check internal; without it, every
// key counts as secret (no false alarm) and the Pulumi CLI's own plain-text warning remains.
const runtime = pulumi.runtime as typeof pulumi.runtime & { isConfigSecret?: (key: string) => boolean };

/** What the running Pulumi engine (or its mocks, in the tests) says about the current stack. */
export function programContext(rootDir: string): ProgramContext {
  return {
    stack: pulumi.getStack(),
    rawConfig: pulumi.runtime.allConfig(),
    isSecret: (key) => runtime.isConfigSecret?.(key) ?? true,
    rootDir,
  };
}

export default async function main(): Promise<Record<string, pulumi.Input<unknown>>> {
  return runProgram(programContext(process.cwd()));
}
