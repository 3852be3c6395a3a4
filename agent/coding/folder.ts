import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chown, cp, lstat, mkdir, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

/**
 * A task's folders: `work/`, the copy of the seed the sandbox sees (at `/work`) and the coding
 * model edits, and `base/`, the same copy that only the agent sees, so the diff is computed from
 * files the sandbox never touched, by a git that reads no configuration from the work folder.
 * The agent's own file operations on `work/` (the model's read_file, write_file, list_files) stay
 * inside it: every path is resolved with symlinks followed and refused when it leaves the folder.
 * No sandboxed process outlives a command, so nothing can swap a path between check and use.
 */

/**
 * Never copied from a seed, listed or written: git metadata (its config can run commands),
 * dependencies, the agent's own state (`.clawdinator/`, where the default memory root lives) and
 * CI's Node download (`.ci/.node`).
 */
const SKIPPED = new Set([".git", "node_modules", ".clawdinator", ".node"]);
const MAX_LIST = 400;
const run = promisify(execFile);

export class TaskFolderError extends Error {
  override readonly name = "TaskFolderError";
}

export interface TaskFolder {
  readonly id: string;
  readonly dir: string;
  readonly work: string;
  readonly base: string;
}

/** Copies `seed` twice into a fresh folder under `root` (which must exist). */
export async function createTaskFolder(root: string, seed: string): Promise<TaskFolder> {
  const id = `task-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString("hex")}`;
  const dir = path.join(root, id);
  await mkdir(dir, { mode: 0o711 });
  const work = path.join(dir, "work");
  // base/ sits in a folder only the agent may enter: the sandbox's uid cannot list or read it.
  const base = path.join(dir, "private", "base");
  await mkdir(path.dirname(base), { mode: 0o700 });
  const filter = (source: string): boolean => !SKIPPED.has(path.basename(source));
  await cp(seed, work, { recursive: true, filter, verbatimSymlinks: true, errorOnExist: true });
  await cp(seed, base, { recursive: true, filter, verbatimSymlinks: true, errorOnExist: true });
  return { id, dir, work, base };
}

export async function removeTaskFolder(folder: TaskFolder): Promise<void> {
  await rm(folder.dir, { recursive: true, force: true });
}

/** The real path of `relative` inside `root`, or a TaskFolderError when it would leave it. */
async function inside(root: string, relative: string, forWrite: boolean): Promise<string> {
  if (relative === "" || path.isAbsolute(relative.replace(/^\/work\/?/, "")) || relative.includes("\0")) {
    throw new TaskFolderError(`"${relative}" is not a path relative to the work folder`);
  }
  const realRoot = await realpath(root);
  const target = path.resolve(realRoot, relative.replace(/^\/work\/?/, ""));
  // The deepest existing ancestor, resolved: a symlink anywhere on the way must stay inside.
  let probe = target;
  for (;;) {
    try {
      const real = await realpath(probe);
      const rest = path.relative(probe, target);
      const resolved = path.join(real, rest);
      if (resolved !== realRoot && !resolved.startsWith(`${realRoot}/`)) throw new TaskFolderError(`"${relative}" leaves the work folder`);
      if (path.relative(realRoot, resolved).split(path.sep).some((part) => SKIPPED.has(part)) && forWrite) {
        throw new TaskFolderError(`"${relative}" is inside a folder the task may not write (${[...SKIPPED].join(", ")})`);
      }
      return resolved;
    } catch (error) {
      if (error instanceof TaskFolderError) throw error;
      const parent = path.dirname(probe);
      if (parent === probe) throw new TaskFolderError(`"${relative}" cannot be resolved`);
      probe = parent;
    }
  }
}

export async function readWorkFile(work: string, relative: string, maxChars: number): Promise<string> {
  const file = await inside(work, relative, false);
  const info = await lstat(file).catch(() => undefined);
  if (!info) throw new TaskFolderError(`no file "${relative}"`);
  if (!info.isFile()) throw new TaskFolderError(`"${relative}" is not a regular file`);
  const content = await readFile(file, "utf8");
  return content.length > maxChars ? `${content.slice(0, maxChars)}\n[… ${content.length - maxChars} more characters not shown]` : content;
}

export async function writeWorkFile(work: string, relative: string, content: string, owner?: { uid: number; gid: number }): Promise<void> {
  const file = await inside(work, relative, true);
  const info = await lstat(file).catch(() => undefined);
  if (info && !info.isFile()) throw new TaskFolderError(`"${relative}" exists and is not a regular file`);
  const created = await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode: 0o644 });
  if (owner) {
    await chown(file, owner.uid, owner.gid);
    // New folders too, so the sandbox's uid can write in them.
    if (created) {
      let dir = path.dirname(file);
      const realWork = await realpath(work);
      while (dir.startsWith(`${realWork}/`)) {
        await chown(dir, owner.uid, owner.gid);
        dir = path.dirname(dir);
      }
    }
  }
}

/** Files under `relative` (a folder), relative to the work folder, skipping .git and node_modules. */
export async function listWorkFiles(work: string, relative = "."): Promise<{ files: string[]; more: number }> {
  const realWork = await realpath(work);
  const start = relative === "." || relative === "" ? realWork : await inside(work, relative, false);
  const files: string[] = [];
  let more = 0;
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (SKIPPED.has(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (files.length < MAX_LIST) files.push(`${path.relative(realWork, full)}${entry.isSymbolicLink() ? " (symlink)" : ""}`);
      else more++;
    }
  };
  await walk(start);
  return { files, more };
}

/** Rewrites the headers of one file's diff (never its content lines) to name paths in the seed. */
function seedPaths(section: string): string {
  const body = /\n(?=@@ |GIT binary patch)/.exec(section);
  const header = body ? section.slice(0, body.index) : section;
  const rest = body ? section.slice(body.index) : "";
  return header.replace(/(^|[\s"])(a|b)\/(?:private\/base|work)\//gm, "$1$2/") + rest;
}

export interface TaskDiff {
  /** A unified diff with `a/` and `b/` prefixes relative to the work folder: `git apply` takes it. */
  readonly patch: string;
  readonly files: readonly string[];
  readonly added: number;
  readonly removed: number;
}

/**
 * The diff from `base/` to `work/`. git runs in the task folder (not a repository), with no
 * system or global config, no external diff or textconv: the work folder's content is data to
 * git, never configuration.
 */
export async function diffTask(folder: TaskFolder, maxBytes: number): Promise<TaskDiff> {
  let stdout = "";
  try {
    await run("git", ["diff", "--no-index", "--no-ext-diff", "--no-textconv", "--binary", "--no-color", "--src-prefix=a/", "--dst-prefix=b/", "private/base", "work"], {
      cwd: folder.dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", HOME: "/nonexistent", GIT_CEILING_DIRECTORIES: path.dirname(folder.dir) },
      maxBuffer: maxBytes * 4 + 1_048_576,
    });
  } catch (error) {
    // Exit 1 means "there are differences".
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (failed.code !== 1 || typeof failed.stdout !== "string") throw new TaskFolderError(`git diff failed: ${failed.stderr ?? String(error)}`);
    stdout = failed.stdout;
  }
  // Paths come out as a/private/base/x and b/work/x; a patch for the seed names x.
  const patch = stdout
    .split(/(?=^diff --git )/m)
    .filter((section) => section.trim() !== "")
    .map(seedPaths)
    .join("");
  const files = [...patch.matchAll(/^diff --git a\/(.+?) b\/(.+)$/gm)].map((m) => (m[2] === "/dev/null" ? (m[1] ?? "") : (m[2] ?? "")));
  let added = 0;
  let removed = 0;
  for (const line of patch.split("\n")) {
    if (line.startsWith("+") && !line.startsWith("+++")) added++;
    else if (line.startsWith("-") && !line.startsWith("---")) removed++;
  }
  return { patch, files, added, removed };
}
