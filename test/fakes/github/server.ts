/**
 * A local GitHub REST API on 127.0.0.1 for tests and benches, driven by the real octokit clients.
 *
 * - App auth: `POST /app/installations/{id}/access_tokens` and `GET /app` take an RS256 JWT, which
 *   is verified with the App's public key (signature, `iss` = app id, `exp` in the future and at
 *   most 10 minutes after `iat`), as GitHub does. Installation tokens (`ghs_…`) expire after
 *   `tokenTtlMs` on the fake's clock; an expired or revoked token gets 401 "Bad credentials".
 *   A PAT listed in `pats` and anonymous requests (unless `allowAnonymous: false`) work too.
 * - Issues, pulls, comments, reviews, check runs and commits in GitHub's shapes (model.ts), with
 *   `since`, `state`, `sort`, `direction`, `per_page`/`page` and RFC 8288 `Link` pagination.
 * - Every GET has an ETag; `If-None-Match` with it answers 304 with no body. A 304 to an
 *   authenticated request costs no rate limit (GitHub's rule); everything else costs 1.
 *   `x-ratelimit-limit/remaining/used/reset/resource` on every answer; at 0 remaining a 403
 *   "API rate limit exceeded".
 * - Faults, queued: 5xx, 403 secondary rate limit and 429, each with `retry-after` where GitHub
 *   sends one, for the next matching requests.
 * - The same API under `/api/v3` (GitHub Enterprise Server's base path).
 * - Counts: every request is recorded (method, path, status, credential kind, rate-limit cost).
 * Imports nothing from the product.
 */
import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { text as readText } from "node:stream/consumers";
import { FakeClock, FakeRepo, isoSeconds, userJson } from "./model.ts";

export { FakeClock, FakeRepo, DAY, HOUR, isoSeconds, sha } from "./model.ts";
export type { AuthorAssociation, CheckConclusion, NewIssue, NewPull, Person, ReviewState } from "./model.ts";

export interface GithubFakeOptions {
  /** The App whose JWTs are accepted. */
  readonly app?: { readonly id: number; readonly publicKey: string | KeyObject; readonly installationId: number };
  /** Installation token lifetime on the fake's clock. @default one hour, as GitHub */
  readonly tokenTtlMs?: number;
  /** Personal access tokens accepted as `token X` / `Bearer X`. */
  readonly pats?: readonly string[];
  /** Whether requests without credentials are served (60 an hour, as GitHub). @default true */
  readonly allowAnonymous?: boolean;
  /** Primary rate limit per credential per hour. @default 5000 */
  readonly rateLimit?: number;
  readonly clock?: FakeClock;
  /** Base of `html_url`s. @default "https://github.com" */
  readonly htmlBase?: string;
}

export type CredentialKind = "app-jwt" | "installation" | "pat" | "anonymous" | "invalid";

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly path: string;
  readonly status: number;
  readonly credential: CredentialKind;
  /** Rate-limit points this request cost (0 for an authenticated 304, a fault or a refused credential). */
  readonly cost: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: unknown;
}

export type Fault =
  | { readonly kind: "server-error"; readonly status?: 500 | 502 | 503 | 504; readonly match?: RegExp }
  | { readonly kind: "secondary-limit"; readonly status?: 403 | 429; readonly retryAfter?: number; readonly match?: RegExp }
  | { readonly kind: "too-many-requests"; readonly retryAfter?: number; readonly match?: RegExp };

interface Token {
  readonly value: string;
  expiresAt: number;
  revoked: boolean;
  readonly permissions: Record<string, string>;
}

interface Bucket {
  remaining: number;
  reset: number;
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

class HttpProblem extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

export class GithubFake {
  readonly clock: FakeClock;
  readonly requests: RecordedRequest[] = [];
  /** Installation tokens minted so far, in order. */
  readonly tokens: Token[] = [];
  readonly #repos = new Map<string, FakeRepo>();
  readonly #faults: Fault[] = [];
  readonly #buckets = new Map<string, Bucket>();
  readonly #options: GithubFakeOptions;
  readonly #publicKey: KeyObject | undefined;
  readonly #server = createServer((req, res) => void this.#handle(req, res));
  #baseUrl = "";

  constructor(options: GithubFakeOptions = {}) {
    this.#options = options;
    this.clock = options.clock ?? new FakeClock();
    const key = options.app?.publicKey;
    this.#publicKey = key === undefined ? undefined : typeof key === "string" ? createPublicKey(key) : key;
  }

  /** `http://127.0.0.1:PORT`: the REST base URL (as GitHub Enterprise's `/api/v3` would be). */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.#baseUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The repository `owner/name`, created empty on first use. */
  repo(fullName: string): FakeRepo {
    let repo = this.#repos.get(fullName);
    if (!repo) {
      repo = new FakeRepo(fullName, this.clock, this.#options.htmlBase);
      this.#repos.set(fullName, repo);
    }
    return repo;
  }

  /** Queues faults: each answers the next request its `match` (default: any API request) fits. */
  inject(...faults: Fault[]): void {
    this.#faults.push(...faults);
  }

  /** Faults not used yet. */
  get pendingFaults(): number {
    return this.#faults.length;
  }

  /** Ends every installation token now (as a revocation would), so the next use gets 401. */
  revokeTokens(): void {
    for (const token of this.tokens) token.revoked = true;
  }

  /** Requests since `from` (an index into `requests`), summed. */
  stats(from = 0): { requests: number; cost: number; notModified: number; byStatus: Record<number, number> } {
    const slice = this.requests.slice(from);
    const byStatus: Record<number, number> = {};
    for (const r of slice) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    return { requests: slice.length, cost: slice.reduce((sum, r) => sum + r.cost, 0), notModified: byStatus[304] ?? 0, byStatus };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.#baseUrl);
    // GitHub Enterprise Server serves the same API under /api/v3.
    if (url.pathname.startsWith("/api/v3/")) url.pathname = url.pathname.slice("/api/v3".length);
    const method = req.method ?? "GET";
    const raw = await readText(req);
    let body: unknown;
    try {
      body = raw === "" ? undefined : JSON.parse(raw);
    } catch {
      body = undefined;
    }
    let credential: CredentialKind = "invalid";
    let bucketKey: string;
    let answer: Answer;
    let cost = 0;
    let bucket: Bucket | undefined;
    try {
      ({ credential, bucketKey } = this.#authenticate(req, url.pathname));
      const limit = credential === "anonymous" ? 60 : (this.#options.rateLimit ?? 5000);
      bucket = this.#bucket(bucketKey, limit);
      const fault = this.#takeFault(url.pathname);
      if (fault) {
        answer = faultAnswer(fault);
      } else {
        if (bucket.remaining <= 0) {
          throw new HttpProblem(403, `API rate limit exceeded for ${credential === "anonymous" ? "127.0.0.1" : "installation"}.`);
        }
        answer = this.#route(method, url, body, credential);
        if (method === "GET" && answer.status === 200) {
          const etag = `W/"${createHash("sha1").update(JSON.stringify(answer.body)).digest("hex")}"`;
          answer = { ...answer, headers: { ...answer.headers, etag } };
          if (ifNoneMatch(req.headers["if-none-match"]).includes(etag)) answer = { status: 304, headers: { etag } };
        }
        // GitHub: a 304 answered to a correctly authorised conditional request is free.
        cost = answer.status === 304 && credential !== "anonymous" ? 0 : 1;
        bucket.remaining -= cost;
      }
      const used = limit - bucket.remaining;
      answer = {
        ...answer,
        headers: {
          "x-ratelimit-limit": String(limit),
          "x-ratelimit-remaining": String(Math.max(0, bucket.remaining)),
          "x-ratelimit-used": String(used),
          "x-ratelimit-reset": String(Math.floor(bucket.reset / 1000)),
          "x-ratelimit-resource": "core",
          ...answer.headers,
        },
      };
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      answer = {
        status: error.status,
        body: { message: error.message, documentation_url: "https://docs.github.com/rest", status: String(error.status) },
        headers: {
          ...(bucket
            ? {
                "x-ratelimit-limit": String(this.#options.rateLimit ?? 5000),
                "x-ratelimit-remaining": String(Math.max(0, bucket.remaining)),
                "x-ratelimit-reset": String(Math.floor(bucket.reset / 1000)),
                "x-ratelimit-resource": "core",
              }
            : {}),
          ...error.headers,
        },
      };
    }
    this.requests.push({ method, url: `${url.pathname}${url.search}`, path: url.pathname, status: answer.status, credential, cost, headers: req.headers, body });
    res.writeHead(answer.status, {
      ...(answer.body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
      // The fake's clock: a client can tell a token's lifetime from `expires_at` minus `date`.
      date: new Date(this.clock.now()).toUTCString(),
      "x-github-media-type": "github.v3; format=json",
      "x-github-request-id": randomBytes(6).toString("hex").toUpperCase(),
      ...answer.headers,
    });
    res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  }

  #bucket(key: string, limit: number): Bucket {
    const now = Date.now();
    let bucket = this.#buckets.get(key);
    if (!bucket || bucket.reset <= now) {
      bucket = { remaining: limit, reset: now + 3_600_000 };
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  #takeFault(pathname: string): Fault | undefined {
    const index = this.#faults.findIndex((fault) => (fault.match ?? /^\/(repos|rate_limit)/).test(pathname));
    if (index === -1) return undefined;
    return this.#faults.splice(index, 1)[0];
  }

  /** Which credential the request carries; throws 401 for a bad one. */
  #authenticate(req: IncomingMessage, pathname: string): { credential: CredentialKind; bucketKey: string } {
    const header = req.headers.authorization;
    if (header === undefined) {
      if (this.#options.allowAnonymous === false) throw new HttpProblem(401, "Requires authentication");
      return { credential: "anonymous", bucketKey: `anon:${req.socket.remoteAddress ?? ""}` };
    }
    const [scheme = "", value = ""] = header.split(/\s+/, 2);
    if (!/^(bearer|token)$/i.test(scheme) || value === "") throw new HttpProblem(401, "Bad credentials");
    if (value.split(".").length === 3) {
      this.#verifyJwt(value);
      if (!pathname.startsWith("/app")) {
        throw new HttpProblem(401, "A JSON web token could not be decoded");
      }
      return { credential: "app-jwt", bucketKey: "app" };
    }
    if (pathname.startsWith("/app")) throw new HttpProblem(401, "A JSON web token could not be decoded");
    const token = this.tokens.find((t) => t.value === value);
    if (token) {
      if (token.revoked || token.expiresAt <= this.clock.now()) throw new HttpProblem(401, "Bad credentials");
      return { credential: "installation", bucketKey: `installation:${this.#options.app?.installationId ?? 0}` };
    }
    if (this.#options.pats?.includes(value)) return { credential: "pat", bucketKey: `pat:${value}` };
    throw new HttpProblem(401, "Bad credentials");
  }

  #verifyJwt(jwt: string): void {
    const app = this.#options.app;
    if (!app || !this.#publicKey) throw new HttpProblem(401, "A JSON web token could not be decoded");
    const [header = "", payload = "", signature = ""] = jwt.split(".");
    let head: { alg?: string };
    let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
    try {
      head = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { alg?: string };
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as typeof claims;
    } catch {
      throw new HttpProblem(401, "A JSON web token could not be decoded");
    }
    if (head.alg !== "RS256") throw new HttpProblem(401, "A JSON web token could not be decoded");
    const ok = verify("RSA-SHA256", Buffer.from(`${header}.${payload}`), this.#publicKey, Buffer.from(signature, "base64url"));
    if (!ok) throw new HttpProblem(401, "A JSON web token could not be decoded");
    if (String(claims.iss) !== String(app.id)) throw new HttpProblem(401, "'Issuer' claim ('iss') must be an Integer");
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== "number" || claims.iat > now + 60) {
      throw new HttpProblem(401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.");
    }
    if (typeof claims.exp !== "number" || claims.exp <= now) {
      throw new HttpProblem(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.");
    }
    if (claims.exp - claims.iat > 600) throw new HttpProblem(401, "'Expiration time' claim ('exp') is too far in the future.");
  }

  #route(method: string, url: URL, body: unknown, credential: CredentialKind): Answer {
    const p = url.pathname;
    const q = url.searchParams;
    let m: RegExpMatchArray | null;
    if (method === "GET" && p === "/rate_limit") return { status: 200, body: { resources: {}, rate: {} } };
    if (method === "GET" && p === "/app") {
      if (credential !== "app-jwt") throw new HttpProblem(401, "A JSON web token could not be decoded");
      return { status: 200, body: { id: this.#options.app?.id, slug: "clawdinator", name: "CLAWDINATOR", owner: userJson("clawdbot") } };
    }
    if (method === "POST" && (m = p.match(/^\/app\/installations\/(\d+)\/access_tokens$/))) {
      if (credential !== "app-jwt") throw new HttpProblem(401, "A JSON web token could not be decoded");
      if (Number(m[1]) !== this.#options.app?.installationId) throw new HttpProblem(404, "Not Found");
      const requested = (body as { permissions?: Record<string, string> } | undefined)?.permissions;
      const permissions = requested ?? { issues: "write", pull_requests: "write", contents: "write", checks: "read", metadata: "read" };
      const token: Token = {
        value: `ghs_${randomBytes(18).toString("base64url")}`,
        expiresAt: this.clock.now() + (this.#options.tokenTtlMs ?? 3_600_000),
        revoked: false,
        permissions,
      };
      this.tokens.push(token);
      return {
        status: 201,
        body: { token: token.value, expires_at: isoSeconds(token.expiresAt), permissions, repository_selection: "all" },
      };
    }
    if ((m = p.match(/^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/))) {
      if (method !== "GET") throw new HttpProblem(404, "Not Found");
      const repo = this.#repos.get(`${m[1]}/${m[2]}`);
      if (!repo) throw new HttpProblem(404, "Not Found");
      return this.#repoRoute(repo, m[3] ?? "", url, q);
    }
    throw new HttpProblem(404, "Not Found");
  }

  #repoRoute(repo: FakeRepo, rest: string, url: URL, q: URLSearchParams): Answer {
    const api = this.#baseUrl;
    let m: RegExpMatchArray | null;
    if (rest === "") {
      return {
        status: 200,
        body: {
          id: 1,
          name: repo.name,
          full_name: repo.fullName,
          owner: userJson(repo.owner),
          private: false,
          html_url: `https://github.com/${repo.fullName}`,
          default_branch: repo.defaultBranch,
          open_issues_count: [...repo.issues.values()].filter((i) => i.state === "open").length,
        },
      };
    }
    if (rest === "/issues" || rest === "/pulls") {
      const pulls = rest === "/pulls";
      const state = q.get("state") ?? "open";
      const since = q.get("since");
      let records = [...repo.issues.values()].filter((i) => (pulls ? i.pull !== undefined : true));
      if (state !== "all") records = records.filter((i) => i.state === state);
      if (since && !pulls) {
        const from = Date.parse(since);
        records = records.filter((i) => Math.floor(i.updatedAt / 1000) * 1000 >= from);
      }
      const sort = q.get("sort") ?? "created";
      const direction = q.get("direction") ?? (sort === "created" && pulls ? "desc" : "desc");
      const key = (i: { createdAt: number; updatedAt: number; comments: unknown[] }): number =>
        sort === "updated" ? i.updatedAt : sort === "comments" ? i.comments.length : i.createdAt;
      records.sort((a, b) => (direction === "asc" ? key(a) - key(b) : key(b) - key(a)) || a.number - b.number);
      const items = records.map((r) => (pulls ? repo.pullJson(r, api) : repo.issueJson(r, api)));
      return paginate(items, url, q);
    }
    if ((m = rest.match(/^\/(issues|pulls)\/(\d+)$/))) {
      const record = repo.issues.get(Number(m[2]));
      if (!record || (m[1] === "pulls" && !record.pull)) throw new HttpProblem(404, "Not Found");
      return { status: 200, body: m[1] === "pulls" ? repo.pullJson(record, api) : repo.issueJson(record, api) };
    }
    if ((m = rest.match(/^\/issues\/(\d+)\/comments$/))) {
      const record = repo.issues.get(Number(m[1]));
      if (!record) throw new HttpProblem(404, "Not Found");
      const since = q.get("since");
      const comments = record.comments.filter((c) => !since || c.updatedAt >= Date.parse(since));
      return paginate(
        comments.map((c) => repo.commentJson(record, c, api)),
        url,
        q,
      );
    }
    if ((m = rest.match(/^\/pulls\/(\d+)\/reviews$/))) {
      const record = repo.issues.get(Number(m[1]));
      if (!record?.pull) throw new HttpProblem(404, "Not Found");
      return paginate(
        record.pull.reviews.map((r) => repo.reviewJson(record, r)),
        url,
        q,
      );
    }
    if ((m = rest.match(/^\/commits\/([^/]+)\/check-runs$/))) {
      const ref = m[1];
      let runs = repo.checkRuns.filter((r) => r.headSha === ref);
      if ((q.get("filter") ?? "latest") === "latest") {
        const latest = new Map<string, (typeof runs)[number]>();
        for (const run of runs) {
          const seen = latest.get(run.name);
          if (!seen || run.id > seen.id) latest.set(run.name, run);
        }
        runs = [...latest.values()];
      }
      const page = paginate(
        runs.map((r) => repo.checkRunJson(r, api)),
        url,
        q,
      );
      return { ...page, body: { total_count: runs.length, check_runs: page.body } };
    }
    if (rest === "/commits") {
      return paginate(
        repo.commits.map((c) => repo.commitJson(c, api)),
        url,
        q,
      );
    }
    throw new HttpProblem(404, "Not Found");
  }
}

/** Starts a fake on a free port of 127.0.0.1. */
export function startGithubFake(options: GithubFakeOptions = {}): Promise<GithubFake> {
  return new GithubFake(options).listen();
}

function paginate(items: readonly unknown[], url: URL, q: URLSearchParams): Answer {
  const perPage = Math.min(100, Math.max(1, Number(q.get("per_page") ?? 30) || 30));
  const page = Math.max(1, Number(q.get("page") ?? 1) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (n: number): string => {
    const next = new URL(url);
    next.searchParams.set("page", String(n));
    next.searchParams.set("per_page", String(perPage));
    return next.toString();
  };
  const rels: string[] = [];
  if (page > 1) rels.push(`<${link(page - 1)}>; rel="prev"`, `<${link(1)}>; rel="first"`);
  if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
  return { status: 200, body: slice, headers: rels.length > 0 ? { link: rels.join(", ") } : {} };
}

function faultAnswer(fault: Fault): Answer {
  switch (fault.kind) {
    case "server-error":
      return { status: fault.status ?? 502, body: { message: "Server Error" } };
    case "secondary-limit":
      return {
        status: fault.status ?? 403,
        body: {
          message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
          documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
          status: String(fault.status ?? 403),
        },
        headers: { "retry-after": String(fault.retryAfter ?? 1) },
      };
    case "too-many-requests":
      return { status: 429, body: { message: "Too Many Requests" }, headers: { "retry-after": String(fault.retryAfter ?? 1) } };
  }
}

function ifNoneMatch(header: string | string[] | undefined): string[] {
  const value = Array.isArray(header) ? header.join(",") : (header ?? "");
  return value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "")
    .flatMap((v) => [v, v.startsWith("W/") ? v.slice(2) : `W/${v}`]);
}
