import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import path from "node:path";

/**
 * Durable, all-or-nothing file replacement: the content goes to a hidden temp file in the target's
 * own folder (rename is only atomic within one file system), is fsync'd, then renamed over the
 * target, and the folder is fsync'd so the rename itself survives a power cut. A reader, on this
 * machine or another NFS client, opens either the old inode or the new one, never a half-written
 * file. A crash leaves at most a stray `.NAME.*.tmp` file, which the store never lists.
 *
 * `beforeCommit` runs after the data is durable and right before the rename; throwing from it
 * abandons the write (the store uses it to refuse committing after its lock lease ran out).
 */
export async function writeFileAtomic(target: string, data: string, beforeCommit?: () => void): Promise<void> {
  const temp = await writeTemp(target, data);
  try {
    beforeCommit?.();
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await fsyncDirectory(path.dirname(target));
}

/** A hidden temp name next to `target`, unique across processes and hosts. */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(8).toString("hex")}.tmp`);
}

async function writeTemp(target: string, data: string): Promise<string> {
  const temp = tempPathFor(target);
  const handle = await open(temp, "wx");
  try {
    await handle.writeFile(data, "utf8");
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return temp;
}

/** fsync of a folder makes a rename or link in it durable (ext4, xfs); a no-op where unsupported. */
async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "ENOTSUP" && code !== "EBADF") throw error;
  } finally {
    await handle.close();
  }
}
