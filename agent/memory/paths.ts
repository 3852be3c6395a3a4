import { lstat, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { MemoryPathError } from "./errors.ts";

/** File types that live in memory: notes and small structured records. */
export const MEMORY_EXTENSIONS: readonly string[] = [".md", ".json"];

const MAX_PATH_LENGTH = 512;
const MAX_SEGMENT_LENGTH = 200;
// Control characters (including NUL) and backslashes never belong in a memory path.
// eslint-disable-next-line no-control-regex -- the point is to match control characters
const FORBIDDEN_CHARACTERS = /[\u0000-\u001f\u007f\\]/;

/**
 * Checks a memory path and returns it normalised (`/` separators, no trailing slash). Pure: looks
 * at the string only. Hidden segments (`.locks`, temp files) are reserved for the store itself.
 */
export function checkMemoryPath(input: string, { requireExtension = true }: { requireExtension?: boolean } = {}): string {
  if (typeof input !== "string" || input.trim() === "") {
    throw new MemoryPathError("MEMORY_PATH_INVALID", "a memory path is required", {
      path: String(input),
      fix: 'Name a file relative to the memory root, e.g. "project.md" or "daily/2026-11-24.md".',
    });
  }
  if (path.posix.isAbsolute(input) || path.win32.isAbsolute(input)) {
    throw new MemoryPathError("MEMORY_PATH_ABSOLUTE", `"${input}" is an absolute path`, {
      path: input,
      fix: 'Memory paths are relative to the memory root: write "ops.md", not "/var/lib/clawd/memory/ops.md".',
    });
  }
  if (FORBIDDEN_CHARACTERS.test(input) || input.length > MAX_PATH_LENGTH) {
    throw new MemoryPathError("MEMORY_PATH_INVALID", `"${printable(input)}" has a backslash, a control character or is over ${MAX_PATH_LENGTH} characters`, {
      path: input,
      fix: 'Use "/" between folders and plain characters in names.',
    });
  }
  const segments = input.replace(/\/+$/, "").split("/");
  if (segments.includes("..")) {
    throw new MemoryPathError("MEMORY_PATH_TRAVERSAL", `"${input}" climbs out of the memory root with ".."`, {
      path: input,
      fix: "Name the file from the memory root down, without any \"..\" segment.",
    });
  }
  for (const segment of segments) {
    if (segment === "" || segment === "." || segment.startsWith(".") || segment.length > MAX_SEGMENT_LENGTH) {
      throw new MemoryPathError("MEMORY_PATH_INVALID", `"${input}" has an empty, ".", hidden or over-long segment ("${segment}")`, {
        path: input,
        fix: "Use plain folder and file names; names starting with \".\" are reserved for the store's own lock and temp files.",
      });
    }
  }
  const normalised = segments.join("/");
  if (requireExtension && !MEMORY_EXTENSIONS.includes(path.posix.extname(normalised))) {
    throw new MemoryPathError("MEMORY_PATH_EXTENSION", `"${input}" is not a markdown or JSON file`, {
      path: input,
      fix: `Memory holds ${MEMORY_EXTENSIONS.join(" and ")} files only: rename it, e.g. "${normalised.replace(/\.[^./]*$/, "")}.md".`,
    });
  }
  return normalised;
}

/**
 * Resolves a checked memory path to the canonical absolute path it lands on under `realRoot` (the
 * root's realpath): symlinks in the existing part resolved, the part that does not exist yet
 * appended. Refuses it when the file or any existing folder on the way is a symlink that resolves
 * outside the root. A symlink that stays inside the root is followed like any path, so two names
 * for one file resolve (and lock) the same.
 */
export async function resolveInsideRoot(realRoot: string, memoryPath: string, expect: "file" | "folder" = "file"): Promise<string> {
  const absolute = path.join(realRoot, ...memoryPath.split("/"));
  // The deepest part of the path that exists decides where the rest would land.
  let existing = absolute;
  const missingTail: string[] = [];
  for (;;) {
    try {
      const resolved = await realpath(existing);
      if (!isInside(realRoot, resolved)) {
        throw new MemoryPathError("MEMORY_PATH_SYMLINK_ESCAPE", `"${memoryPath}" leads out of the memory root through a symlink (to ${resolved})`, {
          path: memoryPath,
          fix: "Remove or fix the symlink; memory files and folders must stay inside the memory root.",
        });
      }
      if (existing === absolute && expect === "file") await refuseNonFile(absolute, memoryPath);
      return path.join(resolved, ...missingTail);
    } catch (error) {
      if (error instanceof MemoryPathError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && existing !== realRoot) {
        // A dangling symlink is ENOENT for realpath too: refuse it rather than write through it.
        if (await isSymlink(existing)) {
          throw new MemoryPathError("MEMORY_PATH_SYMLINK_ESCAPE", `"${memoryPath}" goes through a dangling symlink`, {
            path: memoryPath,
            fix: "Remove the symlink; memory files and folders must be real and inside the memory root.",
          });
        }
        missingTail.unshift(path.basename(existing));
        existing = path.dirname(existing);
        continue;
      }
      if (code === "ENOTDIR") {
        throw new MemoryPathError("MEMORY_PATH_NOT_A_FILE", `"${memoryPath}" runs through a file as if it were a folder`, {
          path: memoryPath,
          fix: "Pick a path whose folders are folders.",
        });
      }
      throw error;
    }
  }
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

async function refuseNonFile(absolute: string, memoryPath: string): Promise<void> {
  const stats = await stat(absolute);
  if (!stats.isFile()) {
    throw new MemoryPathError("MEMORY_PATH_NOT_A_FILE", `"${memoryPath}" is ${stats.isDirectory() ? "a folder" : "not a regular file"}`, {
      path: memoryPath,
      fix: "Name a regular file; to see a folder's files, list it (list(prefix) or `clawdinator memory ls PREFIX`).",
    });
  }
}

async function isSymlink(absolute: string): Promise<boolean> {
  const stats = await lstat(absolute).catch(() => undefined);
  return stats?.isSymbolicLink() ?? false;
}

function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}
