import type { Readable, Writable } from "node:stream";

/** What a CLI command may touch. Only `cli/clawdinator.ts` builds it from the real process. */
export interface CliIo {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly signal: AbortSignal;
}

/** The user typed something the command cannot use; the message says what to run instead. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A CLI command: lazy-loaded by the entry, so one command's dependencies never load for another. */
export interface CliCommand {
  /** Runs the command; resolves to the process exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Splits `--name value` / `--name=value` options from positional arguments. */
export function parseOptions(
  args: readonly string[],
  known: readonly string[],
  flags: readonly string[] = [],
): { options: Map<string, string>; positional: string[] } {
  const options = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [name = "", inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (flags.includes(name)) {
      options.set(name, "true");
      continue;
    }
    if (!known.includes(name)) throw new UsageError(`unknown option --${name}; known: ${[...known, ...flags].map((k) => `--${k}`).join(", ")}`);
    const value = inline ?? args[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    options.set(name, value);
  }
  return { options, positional };
}
