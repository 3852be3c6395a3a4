// A monitor on the agent's real client and memory store, against the local GitHub API.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ATTENTION_DEFAULTS } from "../../agent/github/defaults.ts";
import { Monitor, type MonitoredRepo } from "../../agent/github/monitor.ts";
import { openMemoryStore, type FileMemoryStore } from "../../agent/memory/store.ts";
import type { GithubFake } from "../fakes/github/server.ts";
import { connect, quietLog } from "./helpers.ts";

export async function tempDir(prefix = "clawd-gh-"): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function memoryAt(root: string, instance = "CLAWDINATOR-1"): Promise<FileMemoryStore> {
  return openMemoryStore({ root, instance });
}

export function monitorOn(
  fake: GithubFake,
  memory: FileMemoryStore,
  repos: readonly (string | MonitoredRepo)[],
  extra: Partial<Parameters<typeof connect>[2]> = {},
): Monitor {
  const github = connect(fake, undefined, extra);
  return new Monitor({
    client: github.client,
    memory,
    repos: repos.map((r) => (typeof r === "string" ? { name: r, maintainers: [] } : r)),
    thresholds: ATTENTION_DEFAULTS,
    log: quietLog(),
    now: () => new Date(fake.clock.now()),
  });
}
