import { execFile } from "node:child_process";
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../log.ts";

/**
 * Repo seeds: a bare, shallow clone of each configured repo's default branch, refreshed on a
 * schedule. Code search (`git grep`), file reads (`git show HEAD:path`) and the context docs read
 * the object store directly: there is no working tree to escape, and a path is only ever a git
 * object name. Git runs without a shell; the token reaches it through `GIT_CONFIG_*` environment
 * variables (never the command line, never `.git/config`).
 */

export interface SeedsOptions {
  /** Folder of the clones (`<dir>/<owner>/<repo>.git`). */
  readonly dir: string;
  readonly repos: readonly string[];
  /** The clone URL of a repo. */
  readonly cloneUrl: (repo: string) => string;
  /** A token for HTTPS clones of private repos (App installation or PAT); undefined: anonymous. */
  readonly token: () => Promise<string | undefined>;
  readonly log: Logger;
  /** Commits of history kept. @default 200 */
  readonly depth?: number;
  /** Per git command. @default 120_000 */
  readonly timeoutMs?: number;
}

/** A git command failed; `stderr` says why (scrubbed of the token by the log sink). */
export class GitError extends Error {
  override readonly name = "GitError";
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** The clone URL of `owner/repo` for a REST base: github.com for api.github.com, the host for Enterprise (`https://HOST/api/v3`). */
export function defaultCloneUrl(apiBase: string, template?: string): (repo: string) => string {
  if (template !== undefined) {
    return (repo) => {
      const [owner = "", name = ""] = repo.split("/");
      return template.replaceAll("{owner}", owner).replaceAll("{repo}", name);
    };
  }
  const url = new URL(apiBase);
  const web = url.hostname === "api.github.com" ? "https://github.com" : `${url.protocol}//${url.host}`;
  return (repo) => `${web}/${repo}.git`;
}

export class RepoSeeds {
  readonly #options: SeedsOptions;
  #refreshing: Promise<void> | undefined;

  constructor(options: SeedsOptions) {
    this.#options = options;
  }

  get repos(): readonly string[] {
    return this.#options.repos;
  }

  pathOf(repo: string): string {
    return path.join(this.#options.dir, `${repo}.git`);
  }

  async has(repo: string): Promise<boolean> {
    return stat(path.join(this.pathOf(repo), "HEAD")).then(
      () => true,
      () => false,
    );
  }

  /** Clones what is missing and fetches the rest; one failing repo is logged, the others go on. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refreshAll().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #refreshAll(): Promise<void> {
    for (const repo of this.#options.repos) {
      try {
        await this.#refreshOne(repo);
      } catch (error) {
        this.#options.log.warn({ component: "github-seeds", repo, err: error }, "github: refreshing a repo seed failed; the old copy (if any) stays");
      }
    }
  }

  async #refreshOne(repo: string): Promise<void> {
    const depth = String(this.#options.depth ?? 200);
    const target = this.pathOf(repo);
    const env = await this.#gitEnv();
    if (!(await this.has(repo))) {
      await mkdir(path.dirname(target), { recursive: true });
      await this.#git(["clone", "--bare", "--single-branch", "--no-tags", "--depth", depth, "--", this.#options.cloneUrl(repo), target], env);
      this.#options.log.info({ component: "github-seeds", repo }, "github: repo seed cloned");
      return;
    }
    await this.#git(["-C", target, "fetch", "--no-tags", "--depth", depth, "origin", "HEAD"], env);
    await this.#git(["-C", target, "update-ref", "HEAD", "FETCH_HEAD"], env);
  }

  /** `git grep` over the default branch: `path:line:text` lines, at most `maxLines`. */
  async grep(repo: string, pattern: string, options: { pathspec?: string; maxLines: number; ignoreCase?: boolean }): Promise<string[]> {
    const args = ["-C", this.pathOf(repo), "grep", "-n", "-I", "-E", "--max-count", "20", ...(options.ignoreCase ? ["-i"] : []), "-e", pattern, "HEAD"];
    if (options.pathspec) args.push("--", options.pathspec);
    try {
      const out = await this.#git(args, await this.#gitEnv(false));
      return out
        .split("\n")
        .filter((line) => line !== "")
        .slice(0, options.maxLines)
        .map((line) => line.replace(/^HEAD:/, ""));
    } catch (error) {
      // git grep exits 1 when nothing matches.
      if (error instanceof GitError && /exit code 1\b/.test(error.message) && !/fatal/.test(error.message)) return [];
      throw error;
    }
  }

  /** A file of the default branch; undefined when it does not exist. */
  async readFile(repo: string, file: string): Promise<string | undefined> {
    const clean = file.replace(/^\/+/, "");
    // A git object path has no ".." (git refuses it anyway): there is nothing outside the tree.
    if (clean === "" || clean.split("/").includes("..")) return undefined;
    try {
      return await this.#git(["-C", this.pathOf(repo), "show", `HEAD:${clean}`], await this.#gitEnv(false));
    } catch (error) {
      if (error instanceof GitError && /does not exist|exists on disk, but not in|invalid object name|not a valid object/i.test(error.message)) return undefined;
      throw error;
    }
  }

  /** Files of the default branch under a folder (for "no such file" hints). */
  async listFiles(repo: string, folder = ""): Promise<string[]> {
    const args = ["-C", this.pathOf(repo), "ls-tree", "-r", "--name-only", "HEAD"];
    if (folder) args.push("--", folder.replace(/^\/+/, ""));
    return (await this.#git(args, await this.#gitEnv(false))).split("\n").filter((line) => line !== "");
  }

  async #gitEnv(withToken = true): Promise<NodeJS.ProcessEnv> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_NOSYSTEM: "1",
      LC_ALL: "C",
    };
    const token = withToken ? await this.#options.token() : undefined;
    if (token) {
      const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
      Object.assign(env, { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "http.extraHeader", GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` });
    }
    return env;
  }

  #git(args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile("git", args, { env, timeout: this.#options.timeoutMs ?? 120_000, maxBuffer: MAX_OUTPUT, encoding: "utf8" }, (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === "number" ? `exit code ${error.code}` : String(error.code ?? error.signal ?? "failed");
          reject(new GitError(`git ${args.filter((a) => !a.startsWith("/")).slice(0, 3).join(" ")}: ${code}: ${stderr.trim().slice(0, 500)}`));
          return;
        }
        resolve(stdout);
      });
    });
  }
}
