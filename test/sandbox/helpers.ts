import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeWorkRoot, SandboxRunner, type SandboxOptions } from "../../agent/sandbox/runner.ts";

/**
 * Opens the real runner on this machine's bubblewrap. There is deliberately no skip: a machine
 * without bwrap fails these tests with the runner's own "install bubblewrap" message (CI installs
 * it in .ci/run).
 */
export async function openRunner(options: SandboxOptions = {}): Promise<{ runner: SandboxRunner; root: string; close(): Promise<void> }> {
  const runner = await SandboxRunner.open(options);
  const root = await mkdtemp(path.join(tmpdir(), "clawdinator-sandbox-test-"));
  await makeWorkRoot(root);
  return {
    runner,
    root,
    async close() {
      await runner.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A fresh, empty work folder under `root`, owned as the runner needs. */
export async function workDir(runner: SandboxRunner, root: string): Promise<string> {
  const dir = path.join(root, `work-${randomBytes(4).toString("hex")}`);
  await mkdir(dir);
  await runner.prepareWorkDir(dir);
  return dir;
}

export function marker(): string {
  return `clawd-marker-${randomBytes(6).toString("hex")}`;
}

/** Host processes whose command line contains `text` (the sandbox's leftovers, if any). */
export async function processesWith(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, "utf8")).replaceAll("\0", " ");
      if (cmdline.includes(text)) found.push(`${entry}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
