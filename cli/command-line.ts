// The `clawdinator` command line: from argv to an exit code, through the streams, environment and
// abort signal it is given (cli/main.ts gives it the process's; tests give it their own). Each
// subcommand is a module loaded on demand, so `--help` and `run` stay fast and the agent never
// loads Pulumi or the AWS SDK.
import packageJson from "../package.json" with { type: "json" };
import { describeFailure } from "./errors.ts";
import { COMMON_HELP, LOG_LEVELS, UsageError, type CliCommand, type CliIo, type LogLevel } from "./io.ts";

interface CommandEntry {
  readonly summary: string;
  readonly usage: string;
  readonly load: () => Promise<{ command: CliCommand }>;
  /** The command prints a fuller help of its own for `--help` (with COMMON_HELP). */
  readonly ownHelp?: boolean;
}

const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  run: {
    summary: "run CLAWDINATOR (Discord when a token is configured, this terminal otherwise)",
    usage: "run [--config FILE] [--log-level LEVEL]",
    load: () => import("./commands/run.ts"),
  },
  code: {
    summary: "run one coding task (coding model + sandbox) and print the report and patch it would post",
    usage: 'code "REQUEST" [--repo NAME|DIR] [--config FILE]',
    load: () => import("./commands/code.ts"),
  },
  workspace: {
    summary: "write this instance's workspace (SOUL, IDENTITY, AGENTS, skills) and its distilled system prompt",
    usage: "workspace render [--out DIR] [--instance CLAWDINATOR-n] [--config FILE]",
    load: () => import("./commands/workspace.ts"),
    ownHelp: true,
  },
  memory: {
    summary: "read, write, append, edit (under the lock) or list the hive-mind memory",
    usage: "memory read|write|append|edit|ls [PATH] [-- CMD...] [--root DIR] [--config FILE]",
    load: () => import("./commands/memory.ts"),
    ownHelp: true,
  },
  boot: {
    summary: "on an instance: fetch and verify the bootstrap bundle, decrypt its secrets, write the gateway config, mount the hive mind",
    usage: "boot [--settings FILE]",
    load: () => import("./commands/boot.ts"),
  },
  github: {
    summary: "print a GitHub token for scripts; run one monitor cycle and print what needs a maintainer",
    usage: "github token|digest [--once] [--json] [--now ISO] [--config FILE]",
    load: () => import("./commands/github.ts"),
  },
  image: {
    summary: "build, upload and import the NixOS image as an AMI; list and prune old images",
    usage: "image build|upload|import|ls|prune|adopt|forget [--help]",
    load: () => import("./commands/image.ts"),
    ownHelp: true,
  },
  bootstrap: {
    summary: "pack and upload one instance's bootstrap bundle outside pulumi up (repair)",
    usage: "bootstrap upload --instance CLAWDINATOR-n [--outputs FILE] [--bucket B] [--secrets-dir DIR] [--endpoint-url URL]",
    load: () => import("./commands/bootstrap.ts"),
    ownHelp: true,
  },
  "self-update": {
    summary: "switch this host to the release the fleet pins; roll back if the gateway is not healthy after (the timer runs it)",
    usage: "self-update [--config FILE] [--health-timeout 5m] [--help]",
    load: () => import("./commands/self-update.ts"),
    ownHelp: true,
  },
  fleet: {
    summary: "the fleet's health (status table, deploy health gate) and self-deploy of a new instance (spawn)",
    usage: "fleet status|wait-healthy|spawn [--help]",
    load: () => import("./commands/fleet.ts"),
    ownHelp: true,
  },
};

function usageText(): string {
  // Usage on one line, what it does on the next: some usages are long, and padding them into
  // columns made every row wider than a terminal.
  const rows = Object.values(COMMANDS).map((c) => `  clawdinator ${c.usage}\n      ${c.summary}`);
  return [
    "usage:",
    ...rows,
    "",
    "`clawdinator COMMAND --help` lists every option of a command.",
    COMMON_HELP,
    "Environment: CLAWDINATOR_CONFIG (config file), LOG_LEVEL, CLAWDINATOR_DEBUG=1 (stack traces).",
  ].join("\n");
}

const VERSION_LINE = `clawdinator ${packageJson.version} (node ${process.version})`;

/** `--log-level X` / `--log-level=X` taken out of a command's own arguments (every command accepts it). */
function takeLogLevel(args: readonly string[], env: NodeJS.ProcessEnv): { rest: string[]; level: LogLevel | undefined } {
  const rest: string[] = [];
  let given: { from: string; value: string } | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--log-level") {
      const value = args[++i];
      if (value === undefined || value.startsWith("-")) throw new UsageError(`--log-level needs a value: ${LOG_LEVELS.join(", ")}`, { usage: true });
      given = { from: "--log-level", value };
    } else if (arg.startsWith("--log-level=")) given = { from: "--log-level", value: arg.slice("--log-level=".length) };
    else rest.push(arg);
  }
  if (given === undefined && env.LOG_LEVEL) given = { from: "LOG_LEVEL", value: env.LOG_LEVEL };
  if (given === undefined) return { rest, level: undefined };
  const level = LOG_LEVELS.find((known) => known === given.value.toLowerCase());
  if (level === undefined) throw new UsageError(`${given.from} "${given.value}" is not a log level; use one of ${LOG_LEVELS.join(", ")}`);
  return { rest, level };
}

/** The command being run, for the usage printed after a usage error. */
type Current = { name: string; entry: CommandEntry } | undefined;

/** Everything of the process a command line may use; `logLevel` comes from its own arguments. */
export type CommandLineIo = Omit<CliIo, "logLevel">;

/**
 * Runs one command line to its exit code. Never throws: a failure is printed to `io.stderr` (what
 * to fix, a stack only with CLAWDINATOR_DEBUG) and becomes exit code 1, or 2 for a usage error.
 */
export async function runCommandLine(argv: readonly string[], io: CommandLineIo): Promise<number> {
  const context: { current: Current } = { current: undefined };
  try {
    return await dispatch(argv, io, context);
  } catch (error) {
    return exitCodeFor(error, context.current, io);
  }
}

async function dispatch(argv: readonly string[], io: CommandLineIo, context: { current: Current }): Promise<number> {
  // `--version`/`--log-level` anywhere before a `--` (after it, flags belong to the command `memory edit` runs).
  const separator = argv.indexOf("--");
  const own = separator === -1 ? argv : argv.slice(0, separator);
  if (own.includes("--version") || own.includes("-V")) {
    io.stdout.write(`${VERSION_LINE}\n`);
    return 0;
  }
  const { rest, level } = takeLogLevel(own, io.env);
  const [first, ...ownArgs] = rest;
  const name = first === undefined || (first.startsWith("-") && first !== "-h" && first !== "--help") ? "run" : first;
  const args = [...(first === undefined || name === first ? ownArgs : rest), ...(separator === -1 ? [] : argv.slice(separator))];
  if (name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(`${usageText()}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.stderr.write(`clawdinator: unknown command "${name}"\n${usageText()}\n`);
    return 2;
  }
  context.current = { name, entry };
  if (!entry.ownHelp && ownArgs.some((arg) => arg === "--help" || arg === "-h")) {
    io.stdout.write(`usage: clawdinator ${entry.usage}\n  ${entry.summary}\n\n${COMMON_HELP}\n`);
    return 0;
  }
  const { command } = await entry.load();
  return command.run(args, level === undefined ? io : { ...io, logLevel: level });
}

/** Known failures print their own message (it says what to fix); anything else prints one line, never a stack unless asked. */
function exitCodeFor(error: unknown, current: Current, io: CommandLineIo): number {
  const name = error instanceof Error ? error.name : "";
  if (error instanceof UsageError && error.usage !== undefined) {
    // The usage's first paragraph: the synopsis, not the whole option list (--help has that).
    const usage = error.usage === true ? (current ? `usage: clawdinator ${current.entry.usage}` : usageText()) : error.usage.split("\n\n")[0];
    const more = current ? `run \`clawdinator ${current.name} --help\` for every option` : "run `clawdinator help`";
    io.stderr.write(`clawdinator: ${error.message}\n${usage}\n${more}\n`);
    return 2;
  }
  if (name === "ConfigError" || name === "UsageError") {
    io.stderr.write(`clawdinator: ${(error as Error).message}\n`);
    return 2;
  }
  // Its message names what failed and what to do; systemd retries the boot unit on exit 1.
  if (name === "BootError") {
    io.stderr.write(`clawdinator: ${(error as Error).message}\n`);
    return 1;
  }
  const detail = io.env.CLAWDINATOR_DEBUG ? String((error as Error)?.stack ?? error) : describeFailure(error);
  io.stderr.write(`clawdinator: ${detail}\n`);
  if (!io.env.CLAWDINATOR_DEBUG) io.stderr.write("clawdinator: set CLAWDINATOR_DEBUG=1 to see the stack trace\n");
  return 1;
}
