import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, chmod, chown, lchown, lstat, mkdir, mkdtemp, readdir, readlink, realpath, rm, stat, writeFile } from "node:fs/promises";
import { constants as osConstants, tmpdir } from "node:os";
import { text } from "node:stream/consumers";
import { SANDBOX_LIMITS, type SandboxLimits } from "./limits.ts";
import type { Readable } from "node:stream";
import path from "node:path";

/**
 * Runs model-written commands under bubblewrap. See docs/SANDBOX.md for what this stops and what
 * it does not. In short, each run gets:
 * - new user, mount, pid, network, ipc, uts and cgroup namespaces (`--unshare-all`), no further
 *   user namespaces inside (`--disable-userns`), no capabilities, a new session (no TTY injection);
 * - a file system built from nothing: the system's `/usr` (and `/nix/store` on NixOS) read-only,
 *   a generated `/etc/passwd` and `/etc/group`, a fresh `/proc`, a minimal `/dev`, a small tmpfs
 *   `/tmp`, and the task's work folder at `/work`, the only writable place that outlives the run.
 *   Nothing else of the host is mounted: not `/run/agenix` or any credential, not the memory root,
 *   not `/home`, `/root` or `/var`;
 * - an empty environment (only PATH, HOME, LANG and TMPDIR are set);
 * - rlimits on CPU seconds, data memory, processes, file size and open files, set by prlimit inside
 *   the sandbox before the command starts, and on the host side a wall-clock limit and an output
 *   cap, both enforced by killing the whole tree;
 * - when the agent runs as root (tests, a laptop), bwrap itself is started as an unprivileged
 *   uid (`runAs`, default 65534 "nobody"), so even the sandbox's outside identity owns nothing.
 * The sandbox's pid 1 is bwrap's own reaper: when the command exits, or bwrap is killed (its
 * children die with it: `--die-with-parent`), the kernel kills every process left in the pid
 * namespace. No background process outlives a run.
 */

export { SANDBOX_LIMITS, type SandboxLimits };

export interface SandboxOptions {
  /** The bwrap executable. */
  readonly bwrap?: string;
  /** The prlimit executable (util-linux), run inside the sandbox; it must be under a read-only path. */
  readonly prlimit?: string;
  /** Host folders mounted read-only at the same place (they must not hold secrets). */
  readonly readOnlyPaths?: readonly string[];
  /** PATH inside the sandbox. */
  readonly path?: string;
  /** The uid and gid bwrap runs as when the agent is root; ignored otherwise (it runs as the agent's uid). */
  readonly runAs?: { readonly uid: number; readonly gid: number };
  /** Defaults for every run; a run may lower or raise them within what its caller allows. */
  readonly limits?: Partial<SandboxLimits>;
}

export interface RunOptions {
  /** Host folder mounted read-write at `/work`, the command's working directory. */
  readonly workDir: string;
  /** A shell command line, run by `/bin/sh -c` inside the sandbox. */
  readonly command: string;
  readonly limits?: Partial<SandboxLimits>;
  /** Aborting kills the run like a timeout. */
  readonly signal?: AbortSignal;
}

export type SandboxEnd = "exited" | "signalled" | "wall-timeout" | "output-limit" | "aborted";

export interface SandboxResult {
  /** The command's exit code; null when it was killed. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** How the run ended: on its own, by a signal (an rlimit's SIGXCPU, SIGXFSZ, SIGKILL), or killed by us. */
  readonly end: SandboxEnd;
  /** stdout and stderr interleaved as they arrived, cut at `outputBytes`. */
  readonly output: string;
  /** Bytes the command wrote in all, including what was cut. */
  readonly outputBytes: number;
  readonly durationMs: number;
}

/** The sandbox cannot run at all (bwrap missing, a namespace refused): nothing was executed. */
export class SandboxUnavailableError extends Error {
  override readonly name = "SandboxUnavailableError";
}

const DEFAULT_READ_ONLY = ["/usr", "/etc/alternatives", "/nix/store", "/run/current-system/sw"];
const DEFAULT_PATH = "/run/current-system/sw/bin:/usr/local/bin:/usr/bin:/bin";
const NOBODY = { uid: 65534, gid: 65534 } as const;
/** The identity a command sees inside (its outside uid is the agent's, or `runAs`). */
const INSIDE = { uid: 1000, gid: 1000 } as const;

/** Finds an executable on the agent's PATH (no shell). */
async function which(name: string, searchPath = process.env.PATH ?? ""): Promise<string | undefined> {
  if (name.includes("/")) return (await isExecutable(name)) ? name : undefined;
  for (const dir of searchPath.split(":").filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

type RootEntry = { readonly kind: "symlink"; readonly path: string; readonly target: string } | { readonly kind: "bind"; readonly path: string };

export class SandboxRunner {
  readonly limits: SandboxLimits;
  /** Whether bwrap is dropped to `runAs` (the agent is root). */
  readonly dropsPrivileges: boolean;
  private readonly bwrap: string;
  private readonly prlimit: string;
  private readonly readOnly: readonly string[];
  private readonly insidePath: string;
  private readonly runAs: { uid: number; gid: number } | undefined;
  private readonly etcDir: string;
  /** How /bin, /sbin, /lib, /lib64 appear inside: as the host has them (symlinks into /usr on Debian; NixOS's /bin holds sh). */
  private readonly rootEntries: readonly RootEntry[];
  /** The shell that runs each command (/bin/sh resolved, under a read-only path). */
  private readonly shell: string;
  /** How many runs were started (tests check that a refused request started none). */
  runs = 0;

  /** The uid and gid that must own a work folder (bwrap runs as them), or undefined: the agent's own. */
  get owner(): { readonly uid: number; readonly gid: number } | undefined {
    return this.runAs;
  }

  private constructor(fields: {
    bwrap: string;
    prlimit: string;
    readOnly: readonly string[];
    insidePath: string;
    runAs: { uid: number; gid: number } | undefined;
    etcDir: string;
    limits: SandboxLimits;
    rootEntries: readonly RootEntry[];
    shell: string;
  }) {
    this.rootEntries = fields.rootEntries;
    this.shell = fields.shell;
    this.bwrap = fields.bwrap;
    this.prlimit = fields.prlimit;
    this.readOnly = fields.readOnly;
    this.insidePath = fields.insidePath;
    this.runAs = fields.runAs;
    this.etcDir = fields.etcDir;
    this.limits = fields.limits;
    this.dropsPrivileges = fields.runAs !== undefined;
  }

  /**
   * Finds bwrap and prlimit and prepares the generated `/etc`. Throws SandboxUnavailableError,
   * naming the package to install, when either is missing: coding then stays off, loudly.
   */
  static async open(options: SandboxOptions = {}): Promise<SandboxRunner> {
    const bwrap = await which(options.bwrap ?? "bwrap");
    if (!bwrap) {
      throw new SandboxUnavailableError(
        `bubblewrap (${options.bwrap ?? "bwrap"}) not found on PATH: install it (Debian: apt-get install bubblewrap; NixOS: the module puts pkgs.bubblewrap on the gateway's path)`,
      );
    }
    const prlimit = await which(options.prlimit ?? "prlimit");
    if (!prlimit) throw new SandboxUnavailableError("prlimit (util-linux) not found on PATH: install util-linux");
    const readOnly: string[] = [];
    for (const dir of options.readOnlyPaths ?? DEFAULT_READ_ONLY) if (await exists(dir)) readOnly.push(dir);
    const realPrlimit = path.resolve(prlimit);
    if (!readOnly.some((dir) => realPrlimit === dir || realPrlimit.startsWith(`${dir}/`))) {
      throw new SandboxUnavailableError(`prlimit at ${realPrlimit} is not under a read-only sandbox path (${readOnly.join(", ")})`);
    }
    const under = (file: string): boolean => readOnly.some((dir) => file === dir || file.startsWith(`${dir}/`));
    const rootEntries: RootEntry[] = [];
    for (const entry of ["/bin", "/sbin", "/lib", "/lib64"]) {
      const info = await lstat(entry).catch(() => undefined);
      if (info?.isSymbolicLink()) rootEntries.push({ kind: "symlink", path: entry, target: await readlink(entry) });
      else if (info?.isDirectory() && !under(entry)) rootEntries.push({ kind: "bind", path: entry });
    }
    const shell = await realpath("/bin/sh").catch(() => "");
    if (!under(shell)) throw new SandboxUnavailableError(`/bin/sh (${shell || "missing"}) is not under a read-only sandbox path (${readOnly.join(", ")})`);
    const root = typeof process.getuid === "function" && process.getuid() === 0;
    const runAs = root ? (options.runAs ?? NOBODY) : undefined;
    // /etc/passwd and /etc/group naming the inside uid, so tools that look themselves up work.
    const etcDir = await mkdtemp(path.join(tmpdir(), "clawdinator-sandbox-etc-"));
    await chmod(etcDir, 0o755);
    await writeFile(path.join(etcDir, "passwd"), `sandbox:x:${INSIDE.uid}:${INSIDE.gid}:sandbox:/work:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`, { mode: 0o644 });
    await writeFile(path.join(etcDir, "group"), `sandbox:x:${INSIDE.gid}:\nnogroup:x:65534:\n`, { mode: 0o644 });
    return new SandboxRunner({
      bwrap,
      prlimit: realPrlimit,
      readOnly,
      insidePath: options.path ?? DEFAULT_PATH,
      runAs,
      etcDir,
      limits: { ...SANDBOX_LIMITS, ...options.limits },
      rootEntries,
      shell,
    });
  }

  /**
   * Makes `dir` usable as a work folder: when bwrap runs as `runAs`, that uid must own it (and be
   * able to reach it). Call after filling it, before the first run.
   */
  async prepareWorkDir(dir: string): Promise<void> {
    if (!this.runAs) return;
    await chownTree(dir, this.runAs.uid, this.runAs.gid);
    // Each folder above must be passable (x) for that uid; the task folder itself is 0700.
    await chmod(dir, 0o700);
  }

  /** The bwrap argument list for one run. */
  argv(workDir: string, command: string, limits: SandboxLimits): string[] {
    const args = [
      // fd 3: bwrap reports {"child-pid"} once started and {"exit-code"} once the command ended;
      // without an exit code it failed to build the sandbox (or we killed it).
      "--json-status-fd",
      "3",
      "--unshare-all",
      "--unshare-user",
      "--disable-userns",
      "--die-with-parent",
      "--new-session",
      "--clearenv",
      "--hostname",
      "sandbox",
      "--uid",
      String(INSIDE.uid),
      "--gid",
      String(INSIDE.gid),
    ];
    for (const dir of this.readOnly) args.push("--ro-bind", dir, dir);
    for (const entry of this.rootEntries) {
      if (entry.kind === "symlink") args.push("--symlink", entry.target, entry.path);
      else args.push("--ro-bind", entry.path, entry.path);
    }
    args.push("--ro-bind", path.join(this.etcDir, "passwd"), "/etc/passwd", "--ro-bind", path.join(this.etcDir, "group"), "/etc/group");
    args.push("--proc", "/proc", "--dev", "/dev", "--size", String(limits.tmpBytes), "--tmpfs", "/tmp");
    args.push("--bind", workDir, "/work", "--chdir", "/work");
    args.push("--setenv", "PATH", this.insidePath, "--setenv", "HOME", "/work", "--setenv", "LANG", "C.UTF-8", "--setenv", "TMPDIR", "/tmp");
    args.push(
      "--",
      this.prlimit,
      `--cpu=${limits.cpuSeconds}`,
      `--data=${limits.memoryBytes}`,
      `--nproc=${limits.processes}`,
      `--fsize=${limits.fileSizeBytes}`,
      `--nofile=${limits.openFiles}`,
      "--core=0",
      "--",
      this.shell,
      "-c",
      command,
    );
    return args;
  }

  async run(options: RunOptions): Promise<SandboxResult> {
    const limits: SandboxLimits = { ...this.limits, ...options.limits };
    const workDir = path.resolve(options.workDir);
    const args = this.argv(workDir, options.command, limits);
    const started = performance.now();
    this.runs++;
    const child = spawn(this.bwrap, args, {
      cwd: "/",
      env: {},
      stdio: ["ignore", "pipe", "pipe", "pipe"],
      // Its own process group, so a kill reaches bwrap and anything in between.
      detached: true,
      ...(this.runAs ? { uid: this.runAs.uid, gid: this.runAs.gid } : {}),
    });
    const chunks: Buffer[] = [];
    let kept = 0;
    let total = 0;
    let end: SandboxEnd | undefined;
    const kill = (why: SandboxEnd): void => {
      end ??= why;
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const collect = (chunk: Buffer): void => {
      total += chunk.length;
      if (kept < limits.outputBytes) {
        const part = chunk.subarray(0, limits.outputBytes - kept);
        chunks.push(part);
        kept += part.length;
      }
      if (total > limits.outputBytes) kill("output-limit");
    };
    const [, stdout, stderr, statusFd] = child.stdio;
    if (!stdout || !stderr || !statusFd) throw new SandboxUnavailableError("bwrap started without its pipes");
    stdout.on("data", collect);
    stderr.on("data", collect);
    const status = text(statusFd as Readable);
    const timer = setTimeout(() => kill("wall-timeout"), limits.wallTimeMs);
    const onAbort = (): void => kill("aborted");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    try {
      const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        child.once("error", (error) => reject(new SandboxUnavailableError(`cannot start ${this.bwrap}: ${error.message}`, { cause: error })));
        child.once("close", (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
      });
      const output = Buffer.concat(chunks).toString("utf8");
      if (end === undefined && !/"exit-code"/.test(await status)) {
        throw new SandboxUnavailableError(`bubblewrap could not create the sandbox: ${output.trim().slice(0, 500) || `exit ${code ?? signal}`}`);
      }
      // bwrap reports a command killed by a signal as exit 128 + n.
      const bySignal = signal ?? (code !== null && code > 128 && code < 160 ? signalName(code - 128) : null);
      return {
        exitCode: end === undefined && bySignal === null ? code : null,
        signal: bySignal,
        end: end ?? (bySignal === null ? "exited" : "signalled"),
        output,
        outputBytes: total,
        durationMs: performance.now() - started,
      };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      // The process group may hold a straggler if bwrap died oddly; nothing must survive a run.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // none left: the usual case
        }
      }
    }
  }

  /** Removes the generated /etc. */
  async close(): Promise<void> {
    await rm(this.etcDir, { recursive: true, force: true });
  }
}

function signalName(n: number): NodeJS.Signals | null {
  const entry = Object.entries(osConstants.signals).find(([, value]) => value === n);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(full, uid, gid);
    else await lchown(full, uid, gid);
  }
}

/**
 * Creates the folder task folders live in, passable (not listable) by others: when bwrap runs as
 * `owner`, that uid must reach its work folder through it. Every folder above must be passable too;
 * one that is not is named in a SandboxUnavailableError rather than silently opened up.
 */
export async function makeWorkRoot(dir: string, owner?: { readonly uid: number }): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o711 });
  await chmod(dir, 0o711);
  if (!owner) return;
  for (let up = path.dirname(path.resolve(dir)); ; up = path.dirname(up)) {
    const info = await stat(up);
    if ((info.mode & 0o001) === 0 && info.uid !== owner.uid) {
      throw new SandboxUnavailableError(`the sandbox's uid ${owner.uid} cannot pass through ${up} to reach the task folders: chmod o+x it, or set "coding.workDir" elsewhere`);
    }
    if (up === path.dirname(up)) break;
  }
}
