import type { ATTENTION_DEFAULTS } from "./defaults.ts";
import type { Actor, FlaggedItem, ItemView, RuleName } from "./types.ts";

/**
 * The attention rules, in code: which open items need a maintainer, why, and how urgently.
 * The model has no part in this: the same data and clock give the same answer on every instance,
 * and no text inside an issue can change it (titles and bodies enter only through the named risk
 * signals, computed when the item is fetched; see `riskSignals`).
 */

export type AttentionThresholds = { readonly [K in keyof typeof ATTENTION_DEFAULTS]: number };

export interface RuleContext {
  readonly repo: string;
  /** Configured maintainer logins of this repo, lower-case. */
  readonly maintainers: ReadonlySet<string>;
  readonly thresholds: AttentionThresholds;
  readonly now: Date;
}

/** Most urgent first: a ranked digest puts a security report above a stale PR. */
export const RULE_WEIGHTS: Readonly<Record<RuleName, number>> = {
  regression_or_security: 50,
  first_time_contributor_waiting: 20,
  new_issue_no_maintainer_response: 12,
  review_waiting: 12,
  approved_not_merged: 10,
  failing_checks: 6,
  stale_pr: 3,
};

const MAINTAINER_ASSOCIATIONS = new Set(["OWNER", "MEMBER", "COLLABORATOR"]);
const FIRST_TIMER_ASSOCIATIONS = new Set(["FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER"]);
const FAILED_CONCLUSIONS = new Set(["failure", "timed_out"]);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A configured login of the repo, or OWNER/MEMBER/COLLABORATOR; a `[bot]` login never is. */
export function isMaintainer(actor: Actor, maintainers: ReadonlySet<string>): boolean {
  const login = actor.login.toLowerCase();
  if (login.endsWith("[bot]")) return false;
  return maintainers.has(login) || MAINTAINER_ASSOCIATIONS.has(actor.association);
}

const RISK_LABEL = /regression|security/i;
const RISK_TITLE = /regression|security|\bCVE\b|vulnerab|leak|exposed|injection|worked before|no longer works/gi;
/** The marker GitHub issue forms put in the body when the reporter picks the regression option. */
export const REGRESSION_FORM_MARKER = "Regression (worked before, now fails)";

/**
 * The risk signals of an issue, computed once when it is fetched: labels like regression or
 * security, title words, and the issue-form marker in the body. Each signal is a fixed phrase
 * of ours (a matched word is lower-cased from our own list), so no reporter's text is carried on.
 */
export function riskSignals(title: string, body: string | null | undefined, labels: readonly string[]): string[] {
  const signals: string[] = [];
  for (const label of labels) {
    const match = label.match(RISK_LABEL);
    if (match) signals.push(`label ${match[0].toLowerCase()}`);
  }
  const words = new Set([...title.matchAll(RISK_TITLE)].map((m) => m[0].toLowerCase()));
  for (const word of words) signals.push(`title says "${word}"`);
  if (body?.toLowerCase().includes(REGRESSION_FORM_MARKER.toLowerCase())) signals.push("regression issue form");
  return [...new Set(signals)];
}

interface Fired {
  readonly rule: RuleName;
  readonly phrase: string;
  readonly anchor: string;
}

/** The rules that fire for one item at `context.now`, ranked into a FlaggedItem; undefined when none. */
export function evaluate(item: ItemView, context: RuleContext): FlaggedItem | undefined {
  if (item.kind === "pull_request" && item.draft) return undefined;
  const t = context.thresholds;
  const now = context.now.getTime();
  const age = now - Date.parse(item.createdAt);
  const isM = (actor: Actor): boolean => isMaintainer(actor, context.maintainers);
  const authorIsMaintainer = isM(item.author);
  const self = item.author.login.toLowerCase();
  const byOtherMaintainer = (a: Actor): boolean => isM(a) && a.login.toLowerCase() !== self;
  // Reviews that count as a response: submitted ones (a PENDING review is invisible to others).
  const submittedReviews = item.reviews.filter((r) => r.state !== "PENDING");
  const maintainerResponded = item.comments.some(byOtherMaintainer) || submittedReviews.some(byOtherMaintainer);
  const who = `@${safeLogin(item.author.login)}`;
  const fired: Fired[] = [];

  if (item.kind === "issue" && !authorIsMaintainer && !maintainerResponded && age >= t.newIssueMinHours * HOUR && age <= t.newIssueMaxDays * DAY) {
    fired.push({ rule: "new_issue_no_maintainer_response", phrase: `opened ${ago(age)} ago by ${who}, no maintainer response`, anchor: item.createdAt });
  }
  if (item.kind === "pull_request" && !authorIsMaintainer && !maintainerResponded && age >= t.reviewWaitingHours * HOUR) {
    fired.push({ rule: "review_waiting", phrase: `opened ${ago(age)} ago by ${who}, no maintainer comment or review`, anchor: item.createdAt });
  }
  if (item.kind === "pull_request") {
    const failed = item.checks.filter((c) => c.status === "completed" && c.conclusion !== null && FAILED_CONCLUSIONS.has(c.conclusion));
    if (failed.length > 0) {
      const counts = [...FAILED_CONCLUSIONS].map((c) => [c, failed.filter((f) => f.conclusion === c).length] as const).filter(([, n]) => n > 0);
      const head = (item.headSha ?? "").slice(0, 7);
      fired.push({
        rule: "failing_checks",
        phrase: `checks failing on head ${head} (${counts.map(([c, n]) => `${n} ${c}`).join(", ")})`,
        anchor: `head:${item.headSha ?? ""}`,
      });
    }
  }
  if (FIRST_TIMER_ASSOCIATIONS.has(item.author.association) && !maintainerResponded && age >= t.firstTimeContributorHours * HOUR) {
    fired.push({ rule: "first_time_contributor_waiting", phrase: `first-time contributor ${who} waiting ${ago(age)}`, anchor: item.createdAt });
  }
  if (item.kind === "issue" && !authorIsMaintainer && item.riskSignals.length > 0 && !maintainerResponded) {
    fired.push({
      rule: "regression_or_security",
      phrase: `possible regression or security report (${item.riskSignals.join("; ")}), no maintainer response yet`,
      anchor: item.createdAt,
    });
  }
  if (item.kind === "pull_request") {
    const approval = standingApproval(submittedReviews, isM, now, t.approvedNotMergedHours * HOUR);
    if (approval) {
      fired.push({
        rule: "approved_not_merged",
        phrase: `approved by @${safeLogin(approval.login)} ${ago(now - Date.parse(approval.at))} ago, not merged`,
        anchor: `review:${approval.id}`,
      });
    }
    const times = [item.createdAt, ...item.comments.filter((c) => !isBot(c.login)).map((c) => c.at), ...submittedReviews.filter((r) => !isBot(r.login)).map((r) => r.at)];
    const last = Math.max(...times.map((at) => Date.parse(at)));
    if (now - last >= t.stalePrDays * DAY) {
      fired.push({ rule: "stale_pr", phrase: `no activity for ${ago(now - last)}`, anchor: `activity:${new Date(last).toISOString()}` });
    }
  }
  if (fired.length === 0) return undefined;
  const kindWord = item.kind === "issue" ? "Issue" : "PR";
  return {
    repo: context.repo,
    number: item.number,
    kind: item.kind,
    rules: fired.map((f) => f.rule),
    reason: `${kindWord} ${fired.map((f) => f.phrase).join("; ")}.`,
    url: item.url,
    score: fired.reduce((sum, f) => sum + RULE_WEIGHTS[f.rule], 0),
    createdAt: item.createdAt,
    anchors: fired.map((f) => `${f.rule}@${f.anchor}`),
  };
}

/**
 * The maintainer approval that still stands and is old enough: the earliest APPROVED review by a
 * maintainer after the last CHANGES_REQUESTED by a maintainer, if it is at least `minAgeMs` old.
 */
function standingApproval(
  reviews: readonly { id: number; login: string; association: string; state: string; at: string }[],
  isM: (actor: Actor) => boolean,
  now: number,
  minAgeMs: number,
): { id: number; login: string; at: string } | undefined {
  const byMaintainers = reviews.filter(isM).sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id);
  let lastChanges = -Infinity;
  for (const review of byMaintainers) if (review.state === "CHANGES_REQUESTED") lastChanges = Date.parse(review.at);
  return byMaintainers.find((r) => r.state === "APPROVED" && Date.parse(r.at) > lastChanges && now - Date.parse(r.at) >= minAgeMs);
}

/** Highest score first, then the oldest, then by repo and number: the same order everywhere. */
export function rank(items: readonly FlaggedItem[]): FlaggedItem[] {
  return [...items].sort(
    (a, b) => b.score - a.score || Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.repo.localeCompare(b.repo) || a.number - b.number,
  );
}

function isBot(login: string): boolean {
  return login.toLowerCase().endsWith("[bot]");
}

/** GitHub logins are letters, digits and hyphens (apps add `[bot]`); anything else is dropped. */
function safeLogin(login: string): string {
  return login.replace(/[^A-Za-z0-9\-[\]]/g, "").slice(0, 45);
}

function ago(ms: number): string {
  const hours = Math.floor(ms / HOUR);
  if (hours < 48) return plural(hours, "hour");
  return plural(Math.floor(ms / DAY), "day");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
