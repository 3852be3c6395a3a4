import { spawn } from "node:child_process";
import path from "node:path";
import { text as readText } from "node:stream/consumers";
import { errorCode } from "../../agent/config/errors.ts";
import { loadConfig } from "../../agent/config/load.ts";
import { MemoryError } from "../../agent/memory/errors.ts";
import { openMemoryStore, type FileMemoryStore } from "../../agent/memory/store.ts";
import { COMMON_HELP, parseCommandLine, UsageError, type CliCommand, type CliIo } from "../io.ts";

export const OPTIONS = {
  root: { type: "string" },
  config: { type: "string" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * `memory edit`'s bounds. The lock's lease renews while the command runs, so without a timeout one
 * hung command holds its file for the whole fleet. Its output is bounded by the store's maxBytes
 * (memory.maxBytes): more than that could never be written anyway.
 */
export const EDIT_DEFAULTS = {
  /** Seconds the edit command may run, `--timeout`; a filter like sed takes milliseconds. */
  timeoutSeconds: 60,
} as const;

const ACTIONS: readonly string[] = ["read", "write", "append", "edit", "ls"];

const MEMORY_USAGE = [
  "usage: clawdinator memory read|write|append|edit|ls [PATH] [--root DIR] [--config FILE] [-- CMD...]",
  "  memory read PATH            print a file",
  "  memory write PATH           replace a file with stdin",
  "  memory append PATH          append stdin as a line (or lines)",
  "  memory edit PATH -- CMD...  run CMD with the file on stdin, under the lock; its stdout replaces the file if it exits 0",
  "  memory ls [FOLDER]          list files",
  "",
  "  --root DIR       the memory root (else CLAWDINATOR_MEMORY_DIR, else the config's memoryDir)",
  "  --config FILE    the agent's config file (else CLAWDINATOR_CONFIG)",
  `  --timeout SECONDS  edit only: kill CMD and everything it started after this long (default ${EDIT_DEFAULTS.timeoutSeconds});`,
  "                   its output may not exceed the config's memory.maxBytes either",
].join("\n");

/**
 * `clawdinator memory read|write|append|edit|ls`: the hive mind by hand, through the same store the
 * agent uses (so locks and atomic writes hold against running instances). Successor of the seed's
 * memory-read.sh / memory-write.sh / memory-edit.sh.
 */
export const command: CliCommand = {
  async run(args, io) {
    // Everything after `--` belongs to the edit command, options included.
    const separator = args.indexOf("--");
    const own = separator === -1 ? args : args.slice(0, separator);
    const editCommand = separator === -1 ? [] : args.slice(separator + 1);
    const { values, positionals } = parseCommandLine(own, { options: OPTIONS, maxPositionals: 2, usage: MEMORY_USAGE });
    if (values.help) {
      io.stdout.write(`${MEMORY_USAGE}\n\n${COMMON_HELP}\n`);
      return 0;
    }
    const options = new Map(Object.entries(values).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
    const [action, target] = positionals;
    if (action === undefined) throw new UsageError("memory needs an action", { usage: MEMORY_USAGE });
    if (!ACTIONS.includes(action)) throw new UsageError(`unknown memory action "${action}"`, { usage: MEMORY_USAGE });
    if (action !== "ls" && target === undefined) throw new UsageError(`memory ${action} needs a PATH, e.g. \`clawdinator memory ${action} ops.md\``);
    if (action === "edit" && editCommand.length === 0) {
      throw new UsageError("memory edit needs a command after --, e.g. `clawdinator memory edit ops.md -- sed s/old/new/`");
    }
    if (action !== "edit" && separator !== -1) throw new UsageError(`memory ${action} takes no command after --; only edit does`);
    if (action !== "edit" && values.timeout !== undefined) throw new UsageError("--timeout applies to memory edit only (the time its command may run)");
    const timeoutMs = parseTimeout(values.timeout);

    const store = await openStore(options, io);
    try {
      switch (action) {
        case "read":
          return await read(store, target ?? "", io);
        case "write":
          await store.write(target ?? "", await readStdin(io, "write"));
          return 0;
        case "append": {
          const text = await readStdin(io, "append");
          if (text === "") throw new UsageError("memory append: nothing on stdin to append");
          await store.append(target ?? "", text);
          return 0;
        }
        case "edit":
          return await edit(store, target ?? "", editCommand, io, { timeoutMs, maxOutputBytes: store.maxBytes });
        case "ls":
          for (const file of await store.list(target)) io.stdout.write(`${file}\n`);
          return 0;
        default:
          throw new UsageError(`unknown memory action "${action}"`, { usage: MEMORY_USAGE });
      }
    } catch (error) {
      if (error instanceof MemoryError) throw new UsageError(`memory ${action}: ${error.message} [${error.code}]`, { cause: error });
      throw error;
    }
  },
};

async function openStore(options: Map<string, string>, io: CliIo): Promise<FileMemoryStore> {
  const { config } = await loadConfig(options.get("config") ?? io.env.CLAWDINATOR_CONFIG, io.cwd);
  const explicit = options.get("root") ?? io.env.CLAWDINATOR_MEMORY_DIR;
  const root = explicit === undefined || explicit === "" ? config.memoryDir : path.resolve(io.cwd, explicit);
  try {
    return await openMemoryStore({ root, instance: config.instance, ...config.memory });
  } catch (error) {
    if (error instanceof MemoryError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

async function read(store: FileMemoryStore, target: string, io: CliIo): Promise<number> {
  const content = await store.read(target);
  if (content === undefined) {
    io.stderr.write(`clawdinator: memory read: "${target}" does not exist in ${store.root} (see \`clawdinator memory ls\`)\n`);
    return 1;
  }
  io.stdout.write(content);
  return 0;
}

async function readStdin(io: CliIo, action: string): Promise<string> {
  if (io.stdin.isTTY) {
    throw new UsageError(`memory ${action} reads the content from stdin: pipe it in, e.g. \`echo "- note" | clawdinator memory ${action} ops.md\``);
  }
  return readText(io.stdin);
}

/** `--timeout SECONDS` in ms: a finite number above 0. */
function parseTimeout(value: string | undefined): number {
  if (value === undefined) return EDIT_DEFAULTS.timeoutSeconds * 1000;
  const seconds = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds * 1000 > MAX_TIMER_MS) {
    throw new UsageError(`--timeout "${value}" is not usable: it takes a number of seconds greater than 0, e.g. --timeout 300`);
  }
  return seconds * 1000;
}

/** setTimeout's longest delay (about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface EditBounds {
  readonly timeoutMs: number;
  /** The most the command may print; the store's maxBytes. */
  readonly maxOutputBytes: number;
}

/** The edit command failed, timed out or printed too much: the file stays as it was. */
class EditCommandFailed extends Error {
  override readonly name = "EditCommandFailed";
  /** 1: the command failed; 2: it printed more than memory may hold (as a write over maxBytes). */
  readonly exitCode: 1 | 2;
  /** The memory error code this amounts to, printed as the store's errors are. */
  readonly code: "MEMORY_TOO_LARGE" | undefined;

  constructor(message: string, options: { exitCode?: 1 | 2; code?: "MEMORY_TOO_LARGE" } = {}) {
    super(message);
    this.exitCode = options.exitCode ?? 1;
    this.code = options.code;
  }
}

async function edit(store: FileMemoryStore, target: string, argv: readonly string[], io: CliIo, bounds: EditBounds): Promise<number> {
  try {
    await store.edit(target, (current) => runFilter(argv, current, io, bounds));
    return 0;
  } catch (error) {
    if (!(error instanceof EditCommandFailed)) throw error;
    // store.edit has released the lock by the time its promise settles, so this says so truthfully.
    const [problem, fix] = error.message.split("\n");
    io.stderr.write(`clawdinator: memory edit: ${problem}; "${target}" is unchanged and its lock is released${fix ? `. ${fix}` : ""}${error.code ? ` [${error.code}]` : ""}\n`);
    return error.exitCode;
  }
}

/**
 * Runs `argv` (no shell) with `input` on stdin; resolves to its stdout when it exits 0. It runs in
 * its own process group (detached), so that a timeout, an output flood or our own interruption kills
 * everything it started, grandchildren included: a background process left holding the pipe would
 * otherwise keep the edit, and the file's lock, open. Anything still running when the command itself
 * exits is killed too, for the same reason.
 */
function runFilter(argv: readonly string[], input: string, io: CliIo, bounds: EditBounds): Promise<string> {
  const [file = "", ...args] = argv;
  const shown = showCommand(argv);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: io.cwd, env: io.env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    const out: Buffer[] = [];
    let outBytes = 0;
    let failure: Error | undefined;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL"); // the file is left unchanged, so the command has nothing to clean up
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    };
    const stop = (reason: Error): void => {
      failure ??= reason;
      killGroup();
    };
    const timer = setTimeout(() => {
      const seconds = bounds.timeoutMs / 1000;
      stop(new EditCommandFailed(`"${shown}" ran past its ${seconds} s timeout and was killed with its process group\nGive it longer with --timeout SECONDS (default ${EDIT_DEFAULTS.timeoutSeconds})`));
    }, bounds.timeoutMs);
    const onAbort = (): void => stop(new EditCommandFailed(`"${shown}" was interrupted and killed with its process group`));
    io.signal.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (chunk: Buffer) => {
      if (failure) return;
      outBytes += chunk.length;
      if (outBytes > bounds.maxOutputBytes) {
        stop(
          new EditCommandFailed(
            `the output of "${shown}" passed the memory limit of ${bounds.maxOutputBytes} bytes, so it was killed with its process group\nMake its output smaller, or raise memory.maxBytes in the config`,
            { exitCode: 2, code: "MEMORY_TOO_LARGE" },
          ),
        );
        return;
      }
      out.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => io.stderr.write(chunk));
    // The command itself is done: whatever it left running in its group goes too, or its hold on
    // stdout would keep "close" from ever coming.
    child.on("exit", killGroup);
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      io.signal.removeEventListener("abort", onAbort);
      if (error.code === "ENOENT") reject(new UsageError(`memory edit: command "${file}" not found; the file is unchanged`));
      else reject(new EditCommandFailed(`"${shown}" failed to run (${errorCode(error)})`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      io.signal.removeEventListener("abort", onAbort);
      if (failure) reject(failure);
      else if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new EditCommandFailed(`"${shown}" ${signal ? `was killed by ${signal}` : `exited with ${code}`}`));
    });
    // A command that does not read its stdin closes the pipe early: that is its business, not an error.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
    if (io.signal.aborted) onAbort();
  });
}

/** The command as typed, cut short: an argument may be a whole script. */
function showCommand(argv: readonly string[]): string {
  const text = argv.join(" ").replace(/\s+/g, " ");
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
