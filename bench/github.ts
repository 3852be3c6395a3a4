// Requests and rate-limit cost per monitor cycle, for 50 repos × 100 open items on the local
// GitHub API, with the agent's real client and monitor: the first sync, an idle cycle, a cycle
// with 5 changes; and the same workload the naive way (every list and every item's details
// fetched in full each cycle, no ETags). Prints both, the ratio, and what polling every 60 s
// costs per hour against GitHub's 5,000 an hour.
//
//   node bench/github.ts [--repos 50] [--items 100]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { connectGithub } from "../agent/github/auth.ts";
import type { GithubClient } from "../agent/github/client.ts";
import { ATTENTION_DEFAULTS } from "../agent/github/defaults.ts";
import { Monitor } from "../agent/github/monitor.ts";
import { createLogger, ScrubbingSink } from "../agent/log.ts";
import { openMemoryStore } from "../agent/memory/store.ts";
import { DAY, startGithubFake, type GithubFake } from "../test/fakes/github/server.ts";

const { values } = parseArgs({ options: { repos: { type: "string", default: "50" }, items: { type: "string", default: "100" } } });
const REPOS = Number(values.repos);
const ITEMS = Number(values.items);
const PAT = "ghp_bench000000000000000000000000000000";
const CYCLES_PER_HOUR = 60;
const HOURLY_LIMIT = 5_000;

const fake = await startGithubFake({ pats: [PAT], rateLimit: 1_000_000 });
const names = Array.from({ length: REPOS }, (_, i) => `bench/repo-${String(i).padStart(2, "0")}`);
for (const name of names) {
  const repo = fake.repo(name);
  for (let i = 0; i < ITEMS; i++) {
    const author = i % 5 === 0 ? { login: "maria", association: "MEMBER" as const } : { login: `user${i}`, association: "CONTRIBUTOR" as const };
    if (i % 5 < 3) {
      const issue = repo.addIssue({ author, age: (i + 1) * DAY });
      if (i % 4 === 0) repo.comment(issue, { login: "maria", association: "MEMBER" }, "ack", DAY / 2);
    } else {
      const pull = repo.addPull({ author, age: (i + 1) * DAY });
      repo.checkRun(pull, "test", i % 7 === 0 ? "failure" : "success", DAY / 2);
      if (i % 3 === 0) repo.review(pull, { login: "maria", association: "MEMBER" }, "APPROVED", DAY / 2);
    }
  }
}

const log = createLogger({ level: "silent", sink: new ScrubbingSink(), name: "bench" });
const dir = await mkdtemp(path.join(tmpdir(), "clawd-bench-gh-"));
const memory = await openMemoryStore({ root: dir, instance: "CLAWDINATOR-1" });
const github = connectGithub({ kind: "token", token: PAT }, { baseUrl: fake.baseUrl, log, etagCacheEntries: 0 });
const monitor = new Monitor({ client: github.client, memory, repos: names.map((name) => ({ name, maintainers: [] })), thresholds: ATTENTION_DEFAULTS, log, now: () => new Date(fake.clock.now()) });

interface Measure {
  readonly requests: number;
  readonly cost: number;
  readonly ms: number;
}
async function measure(work: () => Promise<unknown>): Promise<Measure> {
  const mark = fake.requests.length;
  const started = performance.now();
  await work();
  const { requests, cost } = fake.stats(mark);
  return { requests, cost, ms: Math.round(performance.now() - started) };
}

/** Five changes spread over the repos: a comment, a new issue, a push with a failing check, a review, a close. */
function fiveChanges(fake: GithubFake, round: number): void {
  const at = (i: number): ReturnType<GithubFake["repo"]> => fake.repo(names[(round * 5 + i) % names.length] ?? "");
  at(0).comment(2, { login: "maria", association: "MEMBER" }, `round ${round}`);
  at(1).addIssue({ title: `new in round ${round}` });
  const pullNumber = 4 + 5 * (round % 10);
  at(2).push(pullNumber);
  at(2).checkRun(pullNumber, "test", "failure");
  at(3).review(5, { login: "maria", association: "MEMBER" }, "COMMENTED");
  at(4).close(7 + 5 * round);
}

/** The naive way: every open item listed, and each item's comments, reviews and check runs fetched, every cycle. */
async function naiveCycle(client: GithubClient): Promise<void> {
  // Four repos at a time, as the monitor does, so only the counts differ, not the wall time's shape.
  const queue = [...names];
  await Promise.all(Array.from({ length: 4 }, () => naiveWorker(client, queue)));
}

async function naiveWorker(client: GithubClient, queue: string[]): Promise<void> {
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const [owner = "", repo = ""] = name.split("/");
    const issues = await client.paginate("GET /repos/{owner}/{repo}/issues", { owner, repo, state: "open", per_page: 100 });
    const pulls = await client.paginate("GET /repos/{owner}/{repo}/pulls", { owner, repo, state: "open", per_page: 100 });
    for (const issue of issues) {
      if (issue.comments > 0) await client.request("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", { owner, repo, issue_number: issue.number, per_page: 100 });
    }
    for (const pull of pulls) {
      await client.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", { owner, repo, pull_number: pull.number, per_page: 100 });
      await client.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", { owner, repo, ref: pull.head.sha, per_page: 100 });
    }
  }
}

const firstSync = await measure(() => monitor.cycle());
const settle = await measure(() => monitor.cycle());
const idle = await measure(() => monitor.cycle());
fiveChanges(fake, 0);
const changed = await measure(() => monitor.cycle());
const afterChange = await measure(() => monitor.cycle());
const idleAgain = await measure(() => monitor.cycle());
const naiveIdle = await measure(() => naiveCycle(github.client));
fiveChanges(fake, 1);
const naiveChanged = await measure(() => naiveCycle(github.client));

const row = (label: string, m: Measure): string => `  ${label.padEnd(40)} ${String(m.requests).padStart(6)} requests ${String(m.cost).padStart(6)} rate limit ${String(m.ms).padStart(7)} ms`;
const ratio = (naive: number, ours: number): string => (ours === 0 ? `${naive}:0 (ours costs nothing)` : `${(naive / ours).toFixed(1)}×`);
const perHour = (m: Measure): string => `${m.requests * CYCLES_PER_HOUR} requests/h, ${m.cost * CYCLES_PER_HOUR} rate limit/h`;
console.log(`GitHub monitor: ${REPOS} repos × ${ITEMS} open items (60% issues, 40% PRs), local fake, PAT`);
console.log("incremental (since + ETags, the agent's monitor):");
console.log(row("first sync (once)", firstSync));
console.log(row("second cycle (cursor items once more)", settle));
console.log(row("idle cycle", idle));
console.log(row("cycle with 5 changes", changed));
console.log(row("cycle after the changes", afterChange));
console.log(row("idle again", idleAgain));
console.log("naive (full lists + every item's details each cycle, no ETags):");
console.log(row("idle cycle", naiveIdle));
console.log(row("cycle with 5 changes", naiveChanged));
console.log("ratio naive / incremental (rate limit):");
console.log(`  idle: ${ratio(naiveIdle.cost, idle.cost)}; with 5 changes: ${ratio(naiveChanged.cost, changed.cost + afterChange.cost)} (incl. the cycle after)`);
console.log(`polling every 60 s (${CYCLES_PER_HOUR} cycles an hour), against GitHub's ${HOURLY_LIMIT} an hour:`);
console.log(`  incremental idle: ${perHour(idle)}; with 5 changes every cycle: ${perHour({ ...changed, cost: changed.cost + afterChange.cost, requests: changed.requests + afterChange.requests })}`);
console.log(`  naive: ${perHour(naiveIdle)} (${(naiveIdle.cost * CYCLES_PER_HOUR / HOURLY_LIMIT).toFixed(0)}× the limit)`);
const worst = (changed.cost + afterChange.cost) * CYCLES_PER_HOUR;
console.log(`goal: idle cycle costs 0 rate limit: ${idle.cost === 0 ? "met" : "MISSED"}; 50 repos every 60 s within ${HOURLY_LIMIT}/h: ${worst <= HOURLY_LIMIT ? "met" : "MISSED"} (${worst}/h rate limit with 5 changes every minute)`);

await fake.close();
await rm(dir, { recursive: true, force: true });
