import type { Logger } from "../log.ts";
import type { MemoryStore } from "../memory/types.ts";
import { conditionalList, type GithubClient } from "./client.ts";
import { GITHUB_DEFAULTS } from "./defaults.ts";
import { evaluate, rank, riskSignals, type AttentionThresholds } from "./rules.ts";
import type { Activity, CheckFact, FlaggedItem, ItemView, RepoState, ReviewFact } from "./types.ts";

/**
 * The monitor: a cached view of every configured repo's open issues and PRs (reviews, check runs
 * on the head, author association, labels, last activity), kept up to date incrementally.
 *
 * One cycle per repo: one conditional list request (`since` = the newest `updated_at` seen,
 * `If-None-Match` = its ETag). Unchanged: a 304, no rate limit, nothing else requested. Changed:
 * the open pulls list (head SHAs, one request) and, per changed item, its comments, reviews and
 * check runs, each conditional too. Check runs do not touch a PR's `updated_at`, so a head whose
 * checks are still running (or not started) is polled until they settle.
 *
 * A repo's cycle is all or nothing: its new view (cursor, ETags, items) is kept and persisted to
 * the memory store only when every request of the cycle succeeded, so a failure (after the
 * client's retries) loses nothing and the next cycle starts from the same cursor. The persisted
 * view is loaded at start, so a restart re-fetches nothing unchanged.
 */

export interface MonitoredRepo {
  /** `owner/name`. */
  readonly name: string;
  /** Logins that count as maintainers of this repo, besides OWNER/MEMBER/COLLABORATOR. */
  readonly maintainers: readonly string[];
}

export interface MonitorOptions {
  readonly client: GithubClient;
  readonly memory: MemoryStore;
  readonly repos: readonly MonitoredRepo[];
  readonly thresholds: AttentionThresholds;
  readonly log: Logger;
  /** @default GITHUB_DEFAULTS.checksSettleMinutes */
  readonly checksSettleMinutes?: number;
  readonly now?: () => Date;
  /** Repos synced at once. @default 4 */
  readonly concurrency?: number;
}

export interface RepoCycle {
  readonly repo: string;
  readonly ok: boolean;
  /** Items whose view changed this cycle. */
  readonly changed: number;
  readonly error?: unknown;
}

/** Where a repo's view lives in the memory store. */
export function statePath(repo: string): string {
  return `github/monitor/${repo}.json`;
}

// The parts of GitHub's JSON the monitor reads.
interface UserJson {
  readonly login: string;
}
interface IssueJson {
  readonly number: number;
  readonly html_url: string;
  readonly title: string;
  readonly body?: string | null;
  readonly user: UserJson | null;
  readonly labels: readonly (string | { readonly name?: string })[];
  readonly state: string;
  readonly comments: number;
  readonly created_at: string;
  readonly updated_at: string;
  readonly author_association?: string;
  readonly draft?: boolean;
  readonly pull_request?: { readonly merged_at?: string | null };
}
interface PullJson {
  readonly number: number;
  readonly draft?: boolean;
  readonly head: { readonly sha: string };
}
interface CommentJson {
  readonly user: UserJson | null;
  readonly created_at: string;
  readonly author_association?: string;
}
interface ReviewJson {
  readonly id: number;
  readonly user: UserJson | null;
  readonly state: string;
  readonly submitted_at?: string | null;
  readonly author_association?: string;
}
interface CheckRunJson {
  readonly status: string;
  readonly conclusion: string | null;
}

const PER_PAGE = 100;

export class Monitor {
  readonly #options: MonitorOptions;
  readonly #states = new Map<string, RepoState>();
  readonly #now: () => Date;

  constructor(options: MonitorOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  get repos(): readonly MonitoredRepo[] {
    return this.#options.repos;
  }

  /** One cycle over every repo; a failing repo is logged and keeps its previous view and cursor. */
  async cycle(): Promise<RepoCycle[]> {
    const queue = [...this.#options.repos];
    const results: RepoCycle[] = [];
    const worker = async (): Promise<void> => {
      for (let repo = queue.shift(); repo !== undefined; repo = queue.shift()) results.push(await this.#syncSafely(repo));
    };
    await Promise.all(Array.from({ length: Math.min(this.#options.concurrency ?? 4, queue.length) }, worker));
    return results.sort((a, b) => a.repo.localeCompare(b.repo));
  }

  /** Every flagged item of every repo at `now`, ranked. */
  flagged(now: Date = this.#now()): FlaggedItem[] {
    const all: FlaggedItem[] = [];
    for (const repo of this.#options.repos) {
      const state = this.#states.get(repo.name);
      if (!state) continue;
      const maintainers = new Set(repo.maintainers.map((m) => m.toLowerCase()));
      for (const item of Object.values(state.items)) {
        const flagged = evaluate(item, { repo: repo.name, maintainers, thresholds: this.#options.thresholds, now });
        if (flagged) all.push(flagged);
      }
    }
    return rank(all);
  }

  /** The current view of a repo (after a cycle or a load), for tests and the status line. */
  view(repo: string): RepoState | undefined {
    return this.#states.get(repo);
  }

  async #syncSafely(repo: MonitoredRepo): Promise<RepoCycle> {
    const log = this.#options.log.child({ component: "github-monitor", repo: repo.name });
    try {
      const before = this.#states.get(repo.name) ?? (await this.#load(repo.name, log));
      const { state, changed } = await this.#sync(repo.name, before);
      this.#states.set(repo.name, state);
      if (state !== before) await this.#options.memory.write(statePath(repo.name), `${JSON.stringify(state)}\n`);
      if (changed > 0) log.info({ changed, items: Object.keys(state.items).length, cursor: state.cursor }, "github: repo view updated");
      return { repo: repo.name, ok: true, changed };
    } catch (error) {
      log.warn({ err: error, status: statusOf(error) }, "github: repo cycle failed; its view and cursor are kept for the next cycle");
      return { repo: repo.name, ok: false, changed: 0, error };
    }
  }

  async #load(repo: string, log: Logger): Promise<RepoState> {
    const empty: RepoState = { version: 1, repo, items: {} };
    const text = await this.#options.memory.read(statePath(repo));
    if (text === undefined) return empty;
    try {
      const parsed = JSON.parse(text) as RepoState;
      if (parsed.version === 1 && parsed.repo === repo && typeof parsed.items === "object") {
        this.#states.set(repo, parsed);
        return parsed;
      }
    } catch (error) {
      log.warn({ err: error }, "github: the persisted repo view is unreadable; starting over");
    }
    return empty;
  }

  /** One repo's cycle, computed on a copy: returns the same object when nothing changed. */
  async #sync(repo: string, state: RepoState): Promise<{ state: RepoState; changed: number }> {
    const { client } = this.#options;
    const [owner = "", name = ""] = repo.split("/");
    const now = this.#now();
    const items = new Map(Object.entries(state.items));
    let cursor = state.cursor;
    let listEtag: string | undefined;
    let listed: IssueJson[];
    if (cursor === undefined) {
      // First sync: every open item.
      const all = await conditionalList<IssueJson>(client, "GET /repos/{owner}/{repo}/issues", { owner, repo: name, state: "open", sort: "updated", direction: "asc", per_page: PER_PAGE }, undefined);
      listed = all.changed ? all.data : [];
    } else {
      const since = await conditionalList<IssueJson>(
        client,
        "GET /repos/{owner}/{repo}/issues",
        { owner, repo: name, state: "all", since: cursor, sort: "updated", direction: "asc", per_page: PER_PAGE },
        state.listEtag,
      );
      if (!since.changed) {
        const polled = await this.#pollPendingChecks(owner, name, items, now);
        if (polled === 0) return { state, changed: 0 };
        return { state: { ...state, items: Object.fromEntries(items) }, changed: polled };
      }
      listed = since.data;
      listEtag = since.etag;
    }

    const dirty: number[] = [];
    for (const issue of listed) {
      const key = String(issue.number);
      const previous = items.get(key);
      if (issue.state !== "open") {
        items.delete(key);
        continue;
      }
      if (previous && previous.updatedAt === issue.updated_at) continue; // the item at the cursor, listed again
      items.set(key, baseView(issue, previous));
      dirty.push(issue.number);
    }
    // An empty repo starts from a little before now (our clock; the margin covers skew), so its
    // next cycle is an incremental one too.
    const newest = listed.reduce<string | undefined>((max, i) => (max === undefined || i.updated_at > max ? i.updated_at : max), cursor) ?? isoSeconds(now.getTime() - 10 * 60_000);
    if (newest !== cursor) {
      // The ETag belongs to the old `since`; the next request (with the new one) starts afresh.
      listEtag = undefined;
      cursor = newest;
    }

    let pullsEtag = state.pullsEtag;
    const dirtyPulls = dirty.filter((n) => items.get(String(n))?.kind === "pull_request");
    if (dirtyPulls.length > 0) {
      const pulls = await conditionalList<PullJson>(client, "GET /repos/{owner}/{repo}/pulls", { owner, repo: name, state: "open", per_page: PER_PAGE }, state.pullsEtag);
      if (pulls.changed) {
        pullsEtag = pulls.etag;
        for (const pull of pulls.data) {
          const view = items.get(String(pull.number));
          if (!view) continue;
          const headChanged = view.headSha !== pull.head.sha;
          items.set(String(pull.number), {
            ...view,
            draft: pull.draft ?? view.draft,
            headSha: pull.head.sha,
            headSeenAt: headChanged ? now.toISOString() : view.headSeenAt,
            checks: headChanged ? [] : view.checks,
            etags: headChanged ? { ...view.etags, checks: undefined } : view.etags,
          });
        }
      }
    }

    for (const number of dirty) {
      const key = String(number);
      let view = items.get(key);
      if (!view) continue;
      if (view.kind === "pull_request" && view.draft) continue; // a draft never fires; nothing more to know
      view = await this.#comments(owner, name, view);
      if (view.kind === "pull_request") {
        view = await this.#reviews(owner, name, view);
        view = await this.#checks(owner, name, view);
      }
      items.set(key, view);
    }
    const polled = await this.#pollPendingChecks(owner, name, items, now, new Set(dirty));
    const next: RepoState = { version: 1, repo, cursor, listEtag, pullsEtag, items: Object.fromEntries(items) };
    return { state: next, changed: dirty.length + polled };
  }

  async #comments(owner: string, repo: string, view: ItemView): Promise<ItemView> {
    if (view.commentCount === 0) return { ...view, comments: [], etags: { ...view.etags, comments: undefined } };
    const result = await conditionalList<CommentJson>(
      this.#options.client,
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
      { owner, repo, issue_number: view.number, per_page: PER_PAGE },
      view.etags.comments,
    );
    if (!result.changed) return view;
    const comments: Activity[] = result.data.map((c) => ({ login: c.user?.login ?? "ghost", association: c.author_association ?? "NONE", at: c.created_at }));
    return { ...view, comments, etags: { ...view.etags, comments: result.etag } };
  }

  async #reviews(owner: string, repo: string, view: ItemView): Promise<ItemView> {
    const result = await conditionalList<ReviewJson>(
      this.#options.client,
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
      { owner, repo, pull_number: view.number, per_page: PER_PAGE },
      view.etags.reviews,
    );
    if (!result.changed) return view;
    const reviews: ReviewFact[] = result.data
      .filter((r): r is ReviewJson & { submitted_at: string } => typeof r.submitted_at === "string")
      .map((r) => ({ id: r.id, login: r.user?.login ?? "ghost", association: r.author_association ?? "NONE", state: r.state, at: r.submitted_at }));
    return { ...view, reviews, etags: { ...view.etags, reviews: result.etag } };
  }

  async #checks(owner: string, repo: string, view: ItemView): Promise<ItemView> {
    if (!view.headSha) return view;
    const result = await conditionalList<CheckRunJson>(
      this.#options.client,
      "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
      { owner, repo, ref: view.headSha, per_page: PER_PAGE },
      view.etags.checks,
    );
    if (!result.changed) return view;
    const checks: CheckFact[] = result.data.map((c) => ({ status: c.status, conclusion: c.conclusion }));
    return { ...view, checks, etags: { ...view.etags, checks: result.etag } };
  }

  /**
   * Check runs change without touching their PR: poll the heads whose checks have not settled
   * (a run not completed, or no run yet within `checksSettleMinutes` of first seeing the head).
   * Returns how many views changed.
   */
  async #pollPendingChecks(owner: string, repo: string, items: Map<string, ItemView>, now: Date, skip: ReadonlySet<number> = new Set()): Promise<number> {
    const settleMs = (this.#options.checksSettleMinutes ?? GITHUB_DEFAULTS.checksSettleMinutes) * 60_000;
    let changed = 0;
    for (const [key, view] of items) {
      if (view.kind !== "pull_request" || view.draft || !view.headSha || skip.has(view.number)) continue;
      const running = view.checks.some((c) => c.status !== "completed");
      const young = view.headSeenAt !== undefined && now.getTime() - Date.parse(view.headSeenAt) < settleMs;
      if (!running && !(view.checks.length === 0 && young)) continue;
      const next = await this.#checks(owner, repo, view);
      if (next !== view) {
        items.set(key, next);
        changed++;
      }
    }
    return changed;
  }
}

/** The item's own facts from the issues list; what was fetched for it before is kept until re-fetched. */
function baseView(issue: IssueJson, previous: ItemView | undefined): ItemView {
  const labels = issue.labels.map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter((l) => l !== "");
  const kind = issue.pull_request ? "pull_request" : "issue";
  return {
    number: issue.number,
    kind,
    url: issue.html_url,
    author: { login: issue.user?.login ?? "ghost", association: issue.author_association ?? "NONE" },
    labels,
    draft: issue.draft ?? false,
    createdAt: issue.created_at,
    updatedAt: issue.updated_at,
    commentCount: issue.comments,
    riskSignals: kind === "issue" ? riskSignals(issue.title, issue.body, labels) : [],
    comments: previous?.comments ?? [],
    reviews: previous?.reviews ?? [],
    headSha: previous?.headSha,
    checks: previous?.checks ?? [],
    headSeenAt: previous?.headSeenAt,
    etags: previous?.etags ?? {},
  };
}

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function statusOf(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "status" in error && typeof error.status === "number" ? error.status : undefined;
}

/** The flagged items of a monitor at `now`: the digest and `triage` read this. */
export type FlaggedSource = Pick<Monitor, "flagged" | "cycle">;
