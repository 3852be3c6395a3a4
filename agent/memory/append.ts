import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { MemoryPathError, MemoryTooLargeError } from "./errors.ts";

/**
 * Appends at a cost that does not grow with the note: one O_APPEND write of the entry at the end of
 * the file, under the file's lock, instead of a rewrite of the whole note. The store calls these with
 * the lock held; docs/SHARED_MEMORY.md says why this is safe over NFS (the lock serialises appenders,
 * and close-to-open consistency gives each one the size its predecessor left).
 */

/**
 * Opens the note to append to it, or undefined when it does not exist. O_NOFOLLOW: the store
 * resolved the path to a real file inside the root, so a symlink here now means the file was
 * swapped for one since; refused rather than followed. O_NONBLOCK: a FIFO put in its place must not
 * hang the open (the caller checks it is a regular file). Read access too, for the last byte.
 */
export async function openForAppend(file: string, memoryPath: string): Promise<FileHandle | undefined> {
  try {
    return await open(file, constants.O_RDWR | constants.O_APPEND | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") {
      throw new MemoryPathError("MEMORY_PATH_SYMLINK_ESCAPE", `"${memoryPath}" became a symlink while it was being appended to`, {
        path: memoryPath,
        fix: "Remove the symlink; memory files must be real files inside the memory root.",
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Writes `entry` (which ends in "\n") at the end of the open note whose size is `size`, with a
 * newline first when the note does not end in one, in a single write() call so that no other
 * append can land between the two. Reads one byte of the note, never the rest; the size limit is
 * judged from `size`. A write that fails or comes up short is cut back off, so the note is left as
 * it was: nobody else appends while the lock is held. `beforeWrite` throws to abandon the append
 * (the store's lease check).
 */
export async function appendEntry(
  handle: FileHandle,
  size: number,
  entry: string,
  options: { readonly memoryPath: string; readonly maxBytes: number; readonly beforeWrite: () => void },
): Promise<void> {
  let needsNewline = false;
  if (size > 0) {
    const last = Buffer.alloc(1);
    const { bytesRead } = await handle.read(last, 0, 1, size - 1);
    needsNewline = bytesRead === 1 && last[0] !== 0x0a;
  }
  const data = Buffer.from(needsNewline ? `\n${entry}` : entry, "utf8");
  if (size + data.length > options.maxBytes) throw new MemoryTooLargeError(options.memoryPath, size + data.length, options.maxBytes);
  options.beforeWrite();
  try {
    const { bytesWritten } = await handle.write(data, 0, data.length);
    if (bytesWritten !== data.length) {
      throw Object.assign(new Error(`wrote ${bytesWritten} of ${data.length} bytes to "${options.memoryPath}"`), { code: "EIO" });
    }
    await handle.datasync();
  } catch (error) {
    await handle.truncate(size).catch(() => undefined);
    throw error;
  }
}
