// The composition root of the Pulumi program: the stack's name picks the program, the stack's
// configuration is validated in full, and only then is anything declared.
import type * as pulumi from "@pulumi/pulumi";
import { readStackConfig, type RawConfig } from "./config.ts";
import { fleetProgram } from "./fleet.ts";
import { instanceProgram } from "./instance.ts";
import { parseStackName } from "./stacks.ts";

export interface ProgramContext {
  readonly stack: string;
  /** `pulumi.runtime.allConfig()`: every key of the stack, values as strings. */
  readonly rawConfig: RawConfig;
  /** Whether a key was stored with `pulumi config set --secret`. */
  readonly isSecret: (key: string) => boolean;
  /** The project folder (where Pulumi.yaml is); relative paths in the config resolve against it. */
  readonly rootDir: string;
}

/** Runs the stack's program and resolves to its outputs. */
export async function runProgram(context: ProgramContext): Promise<Record<string, pulumi.Input<unknown>>> {
  const kind = parseStackName(context.stack);
  const config = readStackConfig(context.stack, kind, context.rawConfig, context.isSecret);
  return config.kind === "fleet" ? fleetProgram(config) : instanceProgram(config, context.rootDir);
}
