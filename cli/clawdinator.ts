#!/usr/bin/env node
// The `clawdinator` command. This is the only file that touches the process: argv, signals,
// exit codes. Each subcommand is a module loaded on demand, so `--help` and `run` stay fast and
// the agent never loads Pulumi or the AWS SDK.
import type { CliCommand, CliIo } from "./io.ts";

interface CommandEntry {
  readonly summary: string;
  readonly usage: string;
  readonly load: () => Promise<{ command: CliCommand }>;
  /** The command prints a fuller help of its own for `--help`. */
  readonly ownHelp?: boolean;
}

const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  run: {
    summary: "run CLAWDINATOR (Discord when a token is configured, this terminal otherwise)",
    usage: "run [--config FILE]",
    load: () => import("./commands/run.ts"),
  },
  workspace: {
    summary: "write this instance's workspace (SOUL, IDENTITY, AGENTS, skills) and its distilled system prompt",
    usage: "workspace render [--out DIR] [--instance CLAWDINATOR-n] [--config FILE]",
    load: () => import("./commands/workspace.ts"),
  },
  memory: {
    summary: "read, write, append, edit (under the lock) or list the hive-mind memory",
    usage: "memory read|write|append|edit|ls [PATH] [-- CMD...] [--root DIR]",
    load: () => import("./commands/memory.ts"),
  },
  boot: {
    summary: "on an instance: fetch and verify the bootstrap bundle, decrypt its secrets, write the gateway config, mount the hive mind",
    usage: "boot [--settings FILE]",
    load: () => import("./commands/boot.ts"),
  },
  image: {
    summary: "build, upload and import the NixOS image as an AMI; list and prune old images",
    usage: "image build|upload|import|ls|prune [--help]",
    load: () => import("./commands/image.ts"),
    ownHelp: true,
  },
  bootstrap: {
    summary: "pack and upload one instance's bootstrap bundle outside pulumi up (repair)",
    usage: "bootstrap upload --instance CLAWDINATOR-n [--outputs FILE] [--bucket B] [--secrets-dir DIR] [--endpoint-url URL]",
    load: () => import("./commands/bootstrap.ts"),
    ownHelp: true,
  },
};

function usage(): string {
  // Usage on one line, what it does on the next: some usages are long, and padding them into
  // columns made every row wider than a terminal.
  const rows = Object.values(COMMANDS).map((c) => `  clawdinator ${c.usage}\n      ${c.summary}`);
  return ["usage:", ...rows, "", "Environment: CLAWDINATOR_CONFIG (config file), CLAWDINATOR_DEBUG=1 (stack traces)."].join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  const [name = "run", ...args] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`clawdinator: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  // `--help` anywhere before a `--` (after it, the flags belong to the command `memory edit` runs).
  const ownArgs = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  if (!entry.ownHelp && ownArgs.some((arg) => arg === "--help" || arg === "-h")) {
    process.stdout.write(`usage: clawdinator ${entry.usage}\n  ${entry.summary}\n`);
    return 0;
  }
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const io: CliIo = {
    cwd: process.cwd(),
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
  };
  const { command } = await entry.load();
  return command.run(args, io);
}

/** Known failures print their own message (it says what to fix); anything else prints one line, never a stack unless asked. */
function exitCodeFor(error: unknown): number {
  const name = error instanceof Error ? error.name : "";
  if (name === "ConfigError" || name === "UsageError") {
    process.stderr.write(`clawdinator: ${(error as Error).message}\n`);
    return 2;
  }
  // Its message names what failed and what to do; systemd retries the boot unit on exit 1.
  if (name === "BootError") {
    process.stderr.write(`clawdinator: ${(error as Error).message}\n`);
    return 1;
  }
  const detail = process.env.CLAWDINATOR_DEBUG ? String((error as Error)?.stack ?? error) : String((error as Error)?.message ?? error);
  process.stderr.write(`clawdinator: ${detail}\n`);
  if (!process.env.CLAWDINATOR_DEBUG) process.stderr.write("clawdinator: set CLAWDINATOR_DEBUG=1 to see the stack trace\n");
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Sockets and timers of lazily loaded clients must not keep a finished command alive.
    setImmediate(() => process.exit(code));
  },
  (error: unknown) => {
    process.exitCode = exitCodeFor(error);
    setImmediate(() => process.exit());
  },
);
