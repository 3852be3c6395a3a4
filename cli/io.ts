import type { Readable, Writable } from "node:stream";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** What a CLI command may touch. Only `cli/main.ts` builds it from the real process. */
export interface CliIo {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly signal: AbortSignal;
  /** `--log-level`, else `LOG_LEVEL`, already validated by the entry; unset: the command's (or config's) default. */
  readonly logLevel?: LogLevel;
}

/** The user typed something the command cannot use; the message says what to run instead. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /**
   * Set when the command line itself was wrong (an unknown option, an extra argument): the entry
   * prints this usage after the message, or the command's own one-line usage for `true`.
   */
  readonly usage: string | true | undefined;

  constructor(message: string, options?: { cause?: unknown; usage?: string | true }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.usage = options?.usage;
  }
}

/** A CLI command: lazy-loaded by the entry, so one command's dependencies never load for another. */
export interface CliCommand {
  /** Runs the command; resolves to the process exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options every command takes; the entry handles them before the command runs. */
export const COMMON_HELP = `Options of every command:
  --log-level LEVEL     ${LOG_LEVELS.join(", ")} (or LOG_LEVEL; default: the config's logLevel, info)
  --version, -V         print the version and exit
  --help, -h            print this help and exit`;

/**
 * Parses a command's arguments with node:util parseArgs, strictly: an unknown option, a missing
 * value or a positional beyond `maxPositionals` is a UsageError that carries `usage` (exit 2).
 */
export function parseCommandLine<const T extends ParseArgsOptionsConfig>(
  args: readonly string[],
  spec: { readonly options: T; readonly maxPositionals?: number; readonly usage?: string },
): { values: ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: true; args: string[] }>>["values"]; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: spec.options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(describeParseError(error), { cause: error, usage: spec.usage ?? true });
  }
  const max = spec.maxPositionals ?? 0;
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals[max] ?? "";
    throw new UsageError(`unexpected argument "${extra}"`, { usage: spec.usage ?? true });
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** parseArgs' messages explain its own API ("To specify a positional argument…"); say what the user typed. */
function describeParseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${option ?? message}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return message.includes("does not take")
        ? `${option ?? "an option"} takes no value`
        : `${option ?? "an option"} needs a value (write --name=-x for a value that starts with a dash)`;
    default:
      return message;
  }
}

/**
 * The old hand-written option splitter's interface, now on strict parseArgs (kept so commands
 * written against it keep working; new code uses parseCommandLine). `known` take a value, `flags`
 * do not; positionals are returned, not refused.
 */
export function parseOptions(
  args: readonly string[],
  known: readonly string[],
  flags: readonly string[] = [],
  usage?: string,
): { options: Map<string, string>; positional: string[] } {
  const spec: ParseArgsOptionsConfig = {};
  for (const name of known) spec[name] = { type: "string" };
  for (const name of flags) spec[name] = { type: "boolean" };
  const { values, positionals } = parseCommandLine(args, { options: spec, maxPositionals: Infinity, ...(usage === undefined ? {} : { usage }) });
  const options = new Map<string, string>();
  for (const [name, value] of Object.entries(values)) {
    if (value === true) options.set(name, "true");
    else if (typeof value === "string") options.set(name, value);
  }
  return { options, positional: positionals };
}
