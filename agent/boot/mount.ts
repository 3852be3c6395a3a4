// The hive mind's EFS mount, made at boot because the file system is the fleet's and arrives in the
// bundle (one image serves every fleet). NFS 4.1 over TLS, IAM-authorised, through the access point:
// the file system policy refuses anything else.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { BootError } from "./errors.ts";

export interface EfsTarget {
  readonly fileSystemId: string;
  readonly accessPointId: string;
  readonly mountPoint: string;
  readonly region?: string;
}

/** Runs a command and resolves when it exits 0; rejects with its stderr otherwise. */
export type CommandRunner = (command: string, args: readonly string[]) => Promise<void>;

export const runCommand: CommandRunner = async (command, args) => {
  await promisify(execFile)(command, [...args], { timeout: 120_000 });
};

/** `mount -t efs` arguments for the target: the EFS mount helper's tls, iam and accesspoint options. */
export function efsMountArgs(target: EfsTarget): string[] {
  const options = ["tls", "iam", `accesspoint=${target.accessPointId}`, ...(target.region ? [`region=${target.region}`] : [])];
  return ["-t", "efs", "-o", options.join(","), `${target.fileSystemId}:/`, target.mountPoint];
}

/** Whether something is mounted exactly at `mountPoint`, from /proc/self/mountinfo (field 5, octal-escaped). */
export async function isMounted(mountPoint: string, mountInfo: string): Promise<boolean> {
  const text = await readFile(mountInfo, "utf8");
  return text.split("\n").some((line) => unescapeMountPath(line.split(" ")[4] ?? "") === mountPoint);
}

function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Mounts the hive mind unless it already is; reports whether it mounted. */
export async function mountEfs(target: EfsTarget, mountCommand: string, mountInfo: string, run: CommandRunner): Promise<boolean> {
  if (await isMounted(target.mountPoint, mountInfo)) return false;
  try {
    await run(mountCommand, efsMountArgs(target));
  } catch (error) {
    const detail = ((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split("\n").slice(-3).join(" | ");
    throw new BootError(
      "MOUNT_FAILED",
      target.fileSystemId,
      `cannot mount the hive mind ${target.fileSystemId} (access point ${target.accessPointId}) at ${target.mountPoint}: ${detail}. ` +
        "Check that efs-utils is in the image, a mount target is in this subnet, and the instance's security group reaches it on 2049",
      { cause: error },
    );
  }
  return true;
}
