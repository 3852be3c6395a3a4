import { lstat, mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../log.ts";
import type { MemoryStore } from "../memory/types.ts";
import type { SandboxRunner } from "../sandbox/runner.ts";
import type { ReplyFile } from "../transport/types.ts";
import type { CoderOutcome } from "./coder.ts";
import { createTaskFolder, diffTask, removeTaskFolder, type TaskDiff, type TaskFolder } from "./folder.ts";
import { formatReport } from "./report.ts";

/** What writes the code: the OpenAI coder, or anything else with the same shape. */
export interface Coder {
  readonly model: string;
  run(request: string, folder: TaskFolder, context: string): Promise<CoderOutcome>;
}

/**
 * Where a task works:
 * - `repo`: a copy of a repository seed (the agent's own source is the seed `self`). The result
 *   is a patch for a maintainer to apply; nothing is pushed anywhere (GitHub stays read-only).
 * - `workspace`: the agent's workspace docs (SOUL.md, skills/…). Applied to `workspaceDir` when
 *   the operator configured one; the shipped workspace is part of the agent's repository, so a
 *   change to it is a patch like any other.
 * - `memory`: the hive-mind notes. The sandbox gets a copy of the notes, never the memory root;
 *   changed and new notes are written back through the memory store (its locks and path rules).
 */
export type TargetKind = "repo" | "workspace" | "memory";

export interface CodingServiceOptions {
  readonly coder: Coder;
  readonly sandbox: SandboxRunner;
  /** Folder for task folders; must be traversable by the sandbox's uid. */
  readonly workRoot: string;
  /** Repository seeds by name (`coding.repos`, plus `self`). */
  readonly repos: Readonly<Record<string, string>>;
  /** The target when the request names none. */
  readonly defaultTarget: string;
  /** The workspace folder, and whether changes are applied to it (false: it ships in the repository). */
  readonly workspace: { readonly dir: string; readonly apply: boolean };
  readonly memory: MemoryStore;
  readonly log: Logger;
  /** Keep task folders after the report (debugging); default false. */
  readonly keepTasks?: boolean;
  /** Largest patch attached; a bigger one is cut and says so. */
  readonly maxPatchBytes?: number;
}

export interface CodingReport {
  readonly text: string;
  readonly files: readonly ReplyFile[];
  readonly target: string;
  readonly outcome: CoderOutcome;
  readonly diff: TaskDiff;
  /** Files written to the workspace or memory (self-modification); empty for a repo. */
  readonly applied: readonly string[];
}

export class CodingTargetError extends Error {
  override readonly name = "CodingTargetError";
}

/** Most bytes of a file applied to the workspace or memory. */
const MAX_APPLY_BYTES = 262_144;

export class CodingService {
  private readonly options: CodingServiceOptions;
  /** Tasks run one at a time: each can use a sandbox's whole limits. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: CodingServiceOptions) {
    this.options = options;
  }

  get targets(): string[] {
    return [...Object.keys(this.options.repos), "workspace", "memory"];
  }

  /** Checks a target name before anything runs; the error lists the choices. */
  resolve(target: string | undefined): { name: string; kind: TargetKind } {
    const name = target ?? this.options.defaultTarget;
    if (name === "workspace" || name === "memory") return { name, kind: name };
    if (Object.hasOwn(this.options.repos, name)) return { name, kind: "repo" };
    throw new CodingTargetError(`no repository seed named "${name}"; choose one of: ${this.targets.join(", ")}`);
  }

  run(request: string, target: string | undefined, requestedBy: string): Promise<CodingReport> {
    const resolved = this.resolve(target);
    const next = this.queue.then(() => this.runNow(request, resolved, requestedBy));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(request: string, target: { name: string; kind: TargetKind }, requestedBy: string): Promise<CodingReport> {
    const { sandbox, log: baseLog } = this.options;
    const started = Date.now();
    const { seed, cleanupSeed } = await this.seedFor(target);
    let folder: TaskFolder | undefined;
    try {
      folder = await createTaskFolder(this.options.workRoot, seed);
      const log = baseLog.child({ task: folder.id, target: target.name });
      await sandbox.prepareWorkDir(folder.work);
      log.info({ requestedBy, chars: request.length }, "coding task started");
      const context = `Working copy: ${describe(target)}.`;
      const outcome = await this.options.coder.run(request, folder, context);
      const diff = await diffTask(folder, this.options.maxPatchBytes ?? 2_000_000);
      const applied = diff.files.length > 0 ? await this.apply(target, folder, diff, log) : { written: [], skipped: [] };
      log.info({ end: outcome.end, steps: outcome.steps, tokens: outcome.tokens, files: diff.files.length, applied: applied.written.length }, "coding task done");
      const { text, files } = formatReport({
        id: folder.id,
        target: target.name,
        kind: target.kind,
        model: this.options.coder.model,
        outcome,
        diff,
        applied: applied.written,
        skipped: applied.skipped,
        seconds: (Date.now() - started) / 1000,
        maxPatchBytes: this.options.maxPatchBytes ?? 2_000_000,
      });
      return { text, files, target: target.name, outcome, diff, applied: applied.written };
    } finally {
      if (folder && !this.options.keepTasks) await removeTaskFolder(folder);
      await cleanupSeed();
    }
  }

  private async seedFor(target: { name: string; kind: TargetKind }): Promise<{ seed: string; cleanupSeed: () => Promise<void> }> {
    if (target.kind === "repo") return { seed: this.options.repos[target.name] ?? "", cleanupSeed: async () => {} };
    if (target.kind === "workspace") return { seed: this.options.workspace.dir, cleanupSeed: async () => {} };
    // Memory: a private copy of the notes, never the root itself.
    const dir = await mkdtemp(path.join(this.options.workRoot, "memory-seed-"));
    for (const note of await this.options.memory.list()) {
      const content = await this.options.memory.read(note);
      if (content === undefined) continue;
      await mkdir(path.dirname(path.join(dir, note)), { recursive: true });
      await writeFile(path.join(dir, note), content);
    }
    return { seed: dir, cleanupSeed: () => rm(dir, { recursive: true, force: true }) };
  }

  /** Self-modification: changed files of the workspace or memory copy are written back. */
  private async apply(target: { kind: TargetKind }, folder: TaskFolder, diff: TaskDiff, log: Logger): Promise<{ written: string[]; skipped: string[] }> {
    const written: string[] = [];
    const skipped: string[] = [];
    if (target.kind === "repo" || (target.kind === "workspace" && !this.options.workspace.apply)) return { written, skipped };
    for (const file of diff.files) {
      const source = path.join(folder.work, file);
      const info = await lstat(source).catch(() => undefined);
      // Only regular files are applied: a symlink or a deletion is left for a maintainer.
      if (!info?.isFile() || info.size > MAX_APPLY_BYTES || file.split("/").includes("..")) {
        skipped.push(file);
        continue;
      }
      const content = await readFile(source, "utf8");
      try {
        if (target.kind === "memory") {
          await this.options.memory.write(file, content);
        } else {
          if (!file.endsWith(".md")) {
            skipped.push(file);
            continue;
          }
          const dest = path.join(this.options.workspace.dir, file);
          await mkdir(path.dirname(dest), { recursive: true });
          await writeFile(dest, content);
        }
        written.push(file);
      } catch (error) {
        log.warn({ err: error, file }, "a change was not applied");
        skipped.push(file);
      }
    }
    return { written, skipped };
  }
}

function describe(target: { name: string; kind: TargetKind }): string {
  switch (target.kind) {
    case "repo":
      return `repository "${target.name}" (its files without .git and node_modules)`;
    case "workspace":
      return "CLAWDINATOR's own workspace docs (SOUL.md, IDENTITY.md, AGENTS.md, skills/): keep them markdown";
    case "memory":
      return "a copy of the hive-mind memory notes (markdown and JSON only); changed notes are written back";
  }
}
