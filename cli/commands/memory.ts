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
  help: { type: "boolean", short: "h" },
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
          return await edit(store, target ?? "", editCommand, io);
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

/** The edit command failed: the file stays as it was. */
class EditCommandFailed extends Error {
  override readonly name = "EditCommandFailed";
}

async function edit(store: FileMemoryStore, target: string, argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await store.edit(target, (current) => runFilter(argv, current, io));
    return 0;
  } catch (error) {
    if (!(error instanceof EditCommandFailed)) throw error;
    io.stderr.write(`clawdinator: memory edit: ${error.message}; "${target}" is unchanged\n`);
    return 1;
  }
}

/** Runs `argv` (no shell) with `input` on stdin; resolves to its stdout when it exits 0. */
function runFilter(argv: readonly string[], input: string, io: CliIo): Promise<string> {
  const [file = "", ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: io.cwd, env: io.env, stdio: ["pipe", "pipe", "pipe"], signal: io.signal });
    const out: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => io.stderr.write(chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") reject(new UsageError(`memory edit: command "${file}" not found; the file is unchanged`));
      else reject(new EditCommandFailed(`"${file}" failed to run (${errorCode(error)})`));
    });
    child.on("close", (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new EditCommandFailed(`"${argv.join(" ")}" ${signal ? `was killed by ${signal}` : `exited with ${code}`}`));
    });
    // A command that does not read its stdin closes the pipe early: that is its business, not an error.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}
