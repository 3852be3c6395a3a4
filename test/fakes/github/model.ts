/**
 * The state behind the local GitHub API: repositories with issues, pull requests, comments,
 * reviews, check runs and commits, on a clock the test controls. Changes move `updated_at` the way
 * GitHub does (a comment or a review touches its issue; a check run does not). The JSON shapes
 * follow GitHub's REST API (docs.github.com/rest, api.github.com 2022-11-28): only the fields a
 * client of this project could read are filled, with GitHub's names and types.
 * Imports nothing from the product.
 */

export type AuthorAssociation =
  | "OWNER"
  | "MEMBER"
  | "COLLABORATOR"
  | "CONTRIBUTOR"
  | "FIRST_TIME_CONTRIBUTOR"
  | "FIRST_TIMER"
  | "MANNEQUIN"
  | "NONE";

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";
export type CheckConclusion = "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required";

export interface Person {
  readonly login: string;
  readonly association?: AuthorAssociation;
}

interface IssueRecord {
  number: number;
  title: string;
  body: string;
  user: string;
  association: AuthorAssociation;
  labels: string[];
  state: "open" | "closed";
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  comments: CommentRecord[];
  pull?: { draft: boolean; headSha: string; merged: boolean; reviews: ReviewRecord[] };
}

interface CommentRecord {
  id: number;
  user: string;
  association: AuthorAssociation;
  body: string;
  createdAt: number;
  updatedAt: number;
}

interface ReviewRecord {
  id: number;
  user: string;
  association: AuthorAssociation;
  state: ReviewState;
  body: string;
  submittedAt: number;
}

interface CheckRunRecord {
  id: number;
  name: string;
  headSha: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: CheckConclusion | null;
  startedAt: number;
  completedAt: number | null;
}

interface CommitRecord {
  sha: string;
  message: string;
  author: string;
  date: number;
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** GitHub's timestamps: ISO 8601 in UTC, whole seconds. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A clock the test moves by hand; the fake stamps every change with it. */
export class FakeClock {
  #now: number;
  constructor(start: number | string = "2026-11-20T12:00:00Z") {
    this.#now = typeof start === "number" ? start : Date.parse(start);
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
  set(at: number | string): void {
    this.#now = typeof at === "number" ? at : Date.parse(at);
  }
}

let nextId = 1000;
const id = (): number => nextId++;

export interface NewIssue {
  readonly title?: string;
  readonly body?: string;
  readonly author?: Person;
  readonly labels?: readonly string[];
  /** How long ago it was opened (ms before the clock's now). @default 0 */
  readonly age?: number;
}

export interface NewPull extends NewIssue {
  readonly draft?: boolean;
  readonly headSha?: string;
}

/** One repository's issues, pulls, comments, reviews, check runs and commits. */
export class FakeRepo {
  readonly owner: string;
  readonly name: string;
  readonly issues = new Map<number, IssueRecord>();
  readonly checkRuns: CheckRunRecord[] = [];
  readonly commits: CommitRecord[] = [];
  readonly defaultBranch = "main";
  readonly #clock: FakeClock;
  readonly #baseHtml: string;
  #next = 1;

  constructor(fullName: string, clock: FakeClock, htmlBase = "https://github.com") {
    const [owner = "", name = ""] = fullName.split("/");
    this.owner = owner;
    this.name = name;
    this.#clock = clock;
    this.#baseHtml = htmlBase;
  }

  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  /** Opens an issue; returns its number. */
  addIssue(options: NewIssue = {}): number {
    const number = this.#next++;
    const at = this.#clock.now() - (options.age ?? 0);
    this.issues.set(number, {
      number,
      title: options.title ?? `Issue ${number}`,
      body: options.body ?? "",
      user: options.author?.login ?? "stranger",
      association: options.author?.association ?? "NONE",
      labels: [...(options.labels ?? [])],
      state: "open",
      createdAt: at,
      updatedAt: at,
      closedAt: null,
      comments: [],
    });
    return number;
  }

  /** Opens a pull request; returns its number. */
  addPull(options: NewPull = {}): number {
    const number = this.addIssue(options);
    const record = this.#get(number);
    record.title = options.title ?? `Pull ${number}`;
    record.pull = { draft: options.draft ?? false, headSha: options.headSha ?? sha(`${this.fullName}#${number}`), merged: false, reviews: [] };
    return number;
  }

  /** A comment on an issue or pull; touches its `updated_at`. `ago` backdates it. */
  comment(number: number, by: Person, body = "a comment", ago = 0): void {
    const record = this.#get(number);
    const at = this.#clock.now() - ago;
    record.comments.push({ id: id(), user: by.login, association: by.association ?? "NONE", body, createdAt: at, updatedAt: at });
    record.updatedAt = Math.max(record.updatedAt, at);
  }

  /** A submitted review; touches the pull's `updated_at`. */
  review(number: number, by: Person, state: ReviewState, ago = 0, body = ""): void {
    const record = this.#get(number);
    if (!record.pull) throw new Error(`#${number} is not a pull request`);
    const at = this.#clock.now() - ago;
    record.pull.reviews.push({ id: id(), user: by.login, association: by.association ?? "NONE", state, body, submittedAt: at });
    record.updatedAt = Math.max(record.updatedAt, at);
  }

  /** A check run on a pull's current head (does not touch the pull, as on GitHub). */
  checkRun(number: number, name: string, conclusion: CheckConclusion | null, ago = 0): void {
    const record = this.#get(number);
    if (!record.pull) throw new Error(`#${number} is not a pull request`);
    const at = this.#clock.now() - ago;
    this.checkRuns.push({
      id: id(),
      name,
      headSha: record.pull.headSha,
      status: conclusion === null ? "in_progress" : "completed",
      conclusion,
      startedAt: at,
      completedAt: conclusion === null ? null : at,
    });
  }

  /** A new head commit on a pull (a push): touches the pull. */
  push(number: number): string {
    const record = this.#get(number);
    if (!record.pull) throw new Error(`#${number} is not a pull request`);
    record.pull.headSha = sha(`${record.pull.headSha}+`);
    record.updatedAt = this.#clock.now();
    return record.pull.headSha;
  }

  edit(number: number, change: { title?: string; body?: string; labels?: readonly string[]; draft?: boolean }): void {
    const record = this.#get(number);
    if (change.title !== undefined) record.title = change.title;
    if (change.body !== undefined) record.body = change.body;
    if (change.labels !== undefined) record.labels = [...change.labels];
    if (change.draft !== undefined && record.pull) record.pull.draft = change.draft;
    record.updatedAt = this.#clock.now();
  }

  close(number: number, merged = false): void {
    const record = this.#get(number);
    record.state = "closed";
    record.closedAt = this.#clock.now();
    record.updatedAt = this.#clock.now();
    if (merged && record.pull) record.pull.merged = true;
  }

  addCommit(message: string, author = "octocat", ago = 0): string {
    const commit = { sha: sha(`${this.fullName}:${this.commits.length}:${message}`), message, author, date: this.#clock.now() - ago };
    this.commits.unshift(commit);
    return commit.sha;
  }

  #get(number: number): IssueRecord {
    const record = this.issues.get(number);
    if (!record) throw new Error(`${this.fullName} has no #${number}`);
    return record;
  }

  // ---- JSON in GitHub's shapes ----

  htmlUrl(number: number, pull: boolean): string {
    return `${this.#baseHtml}/${this.fullName}/${pull ? "pull" : "issues"}/${number}`;
  }

  issueJson(record: IssueRecord, api: string): Record<string, unknown> {
    const url = `${api}/repos/${this.fullName}/issues/${record.number}`;
    return {
      id: record.number + 10_000_000,
      node_id: `I_${record.number}`,
      url,
      repository_url: `${api}/repos/${this.fullName}`,
      comments_url: `${url}/comments`,
      html_url: this.htmlUrl(record.number, record.pull !== undefined),
      number: record.number,
      state: record.state,
      title: record.title,
      body: record.body,
      user: userJson(record.user),
      labels: record.labels.map((name, i) => ({ id: i + 1, name, color: "ededed", default: false, description: null })),
      assignee: null,
      assignees: [],
      milestone: null,
      locked: false,
      comments: record.comments.length,
      created_at: isoSeconds(record.createdAt),
      updated_at: isoSeconds(record.updatedAt),
      closed_at: record.closedAt === null ? null : isoSeconds(record.closedAt),
      author_association: record.association,
      ...(record.pull
        ? {
            draft: record.pull.draft,
            pull_request: {
              url: `${api}/repos/${this.fullName}/pulls/${record.number}`,
              html_url: this.htmlUrl(record.number, true),
              diff_url: `${this.htmlUrl(record.number, true)}.diff`,
              patch_url: `${this.htmlUrl(record.number, true)}.patch`,
              merged_at: record.pull.merged && record.closedAt !== null ? isoSeconds(record.closedAt) : null,
            },
          }
        : {}),
    };
  }

  pullJson(record: IssueRecord, api: string): Record<string, unknown> {
    const pull = record.pull;
    if (!pull) throw new Error("not a pull");
    return {
      id: record.number + 20_000_000,
      node_id: `PR_${record.number}`,
      url: `${api}/repos/${this.fullName}/pulls/${record.number}`,
      html_url: this.htmlUrl(record.number, true),
      number: record.number,
      state: record.state,
      locked: false,
      title: record.title,
      body: record.body,
      user: userJson(record.user),
      labels: record.labels.map((name, i) => ({ id: i + 1, name, color: "ededed", default: false, description: null })),
      created_at: isoSeconds(record.createdAt),
      updated_at: isoSeconds(record.updatedAt),
      closed_at: record.closedAt === null ? null : isoSeconds(record.closedAt),
      merged_at: pull.merged && record.closedAt !== null ? isoSeconds(record.closedAt) : null,
      draft: pull.draft,
      head: { label: `${record.user}:patch-${record.number}`, ref: `patch-${record.number}`, sha: pull.headSha, user: userJson(record.user) },
      base: { label: `${this.owner}:${this.defaultBranch}`, ref: this.defaultBranch, sha: sha(`${this.fullName}:base`) },
      author_association: record.association,
    };
  }

  commentJson(record: IssueRecord, comment: CommentRecord, api: string): Record<string, unknown> {
    return {
      id: comment.id,
      node_id: `IC_${comment.id}`,
      url: `${api}/repos/${this.fullName}/issues/comments/${comment.id}`,
      html_url: `${this.htmlUrl(record.number, record.pull !== undefined)}#issuecomment-${comment.id}`,
      issue_url: `${api}/repos/${this.fullName}/issues/${record.number}`,
      body: comment.body,
      user: userJson(comment.user),
      created_at: isoSeconds(comment.createdAt),
      updated_at: isoSeconds(comment.updatedAt),
      author_association: comment.association,
    };
  }

  reviewJson(record: IssueRecord, review: ReviewRecord): Record<string, unknown> {
    return {
      id: review.id,
      node_id: `PRR_${review.id}`,
      user: userJson(review.user),
      body: review.body,
      state: review.state,
      html_url: `${this.htmlUrl(record.number, true)}#pullrequestreview-${review.id}`,
      submitted_at: isoSeconds(review.submittedAt),
      commit_id: record.pull?.headSha ?? null,
      author_association: review.association,
    };
  }

  checkRunJson(run: CheckRunRecord, api: string): Record<string, unknown> {
    return {
      id: run.id,
      head_sha: run.headSha,
      node_id: `CR_${run.id}`,
      external_id: "",
      url: `${api}/repos/${this.fullName}/check-runs/${run.id}`,
      html_url: `${this.#baseHtml}/${this.fullName}/runs/${run.id}`,
      details_url: null,
      status: run.status,
      conclusion: run.conclusion,
      started_at: isoSeconds(run.startedAt),
      completed_at: run.completedAt === null ? null : isoSeconds(run.completedAt),
      name: run.name,
      check_suite: { id: run.id + 1 },
      app: { id: 15368, slug: "github-actions", name: "GitHub Actions" },
      pull_requests: [],
    };
  }

  commitJson(commit: CommitRecord, api: string): Record<string, unknown> {
    const who = { name: commit.author, email: `${commit.author}@users.noreply.github.com`, date: isoSeconds(commit.date) };
    return {
      sha: commit.sha,
      node_id: `C_${commit.sha.slice(0, 8)}`,
      url: `${api}/repos/${this.fullName}/commits/${commit.sha}`,
      html_url: `${this.#baseHtml}/${this.fullName}/commit/${commit.sha}`,
      commit: { author: who, committer: who, message: commit.message, comment_count: 0 },
      author: userJson(commit.author),
      committer: userJson(commit.author),
      parents: [],
    };
  }
}

export function userJson(login: string): Record<string, unknown> {
  const bot = login.endsWith("[bot]");
  return {
    login,
    id: hashNumber(login),
    node_id: `U_${login}`,
    type: bot ? "Bot" : "User",
    site_admin: false,
    html_url: `https://github.com/${bot ? `apps/${login.slice(0, -5)}` : login}`,
  };
}

function hashNumber(text: string): number {
  let h = 7;
  for (const char of text) h = (h * 31 + char.charCodeAt(0)) % 2_147_483_647;
  return h;
}

/** A stable 40-hex "sha" for a text. */
export function sha(text: string): string {
  let out = "";
  let h = hashNumber(text);
  while (out.length < 40) {
    h = (h * 48_271) % 2_147_483_647;
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, 40);
}
