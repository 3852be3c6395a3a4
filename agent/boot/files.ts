import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { chmod, chown, lstat, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";

export interface FileSpec {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * Makes `file` hold exactly `body` with this mode and owner, and reports whether anything changed.
 * Same bytes: at most the mode or owner is mended, the file is not rewritten (a second boot with
 * nothing new changes nothing). New bytes: written to a temp file with the final mode and owner
 * first, fsynced, then renamed over, so a reader sees the old file or the new one, never a part.
 */
export async function syncFile(file: string, body: Buffer, spec: FileSpec): Promise<boolean> {
  const current = await lstat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (current?.isFile()) {
    const same = await readFile(file).then((old) => old.equals(body));
    if (same) return mendModeAndOwner(file, current, spec);
  } else if (current) {
    // A directory, link or device where a file belongs: never write through it.
    await rm(file, { recursive: true, force: true });
  }
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", spec.mode);
  try {
    await handle.chown(spec.uid, spec.gid);
    await handle.chmod(spec.mode);
    await handle.writeFile(body);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, file);
  return true;
}

/** Makes `dir` (and missing parents) a folder with this mode and owner; reports whether anything changed. */
export async function ensureDir(dir: string, spec: FileSpec): Promise<boolean> {
  const existed = await lstat(dir).then((s) => s.isDirectory(), () => false);
  if (!existed) await mkdir(dir, { recursive: true, mode: spec.mode });
  const mended = await mendModeAndOwner(dir, await lstat(dir), spec);
  return !existed || mended;
}

/** Sets the mode and owner where they differ from `spec`; reports whether it had to. */
async function mendModeAndOwner(target: string, current: Stats, spec: FileSpec): Promise<boolean> {
  let changed = false;
  if ((current.mode & 0o7777) !== spec.mode) {
    await chmod(target, spec.mode);
    changed = true;
  }
  if (current.uid !== spec.uid || current.gid !== spec.gid) {
    await chown(target, spec.uid, spec.gid);
    changed = true;
  }
  return changed;
}
