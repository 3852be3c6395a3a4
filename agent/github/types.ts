/**
 * What the monitor keeps of an open issue or pull request: facts, never bodies. Comment and
 * review texts are not kept at all (a rule needs who and when, not what), so nothing a stranger
 * writes reaches the rules except through the named signals below. Persisted as JSON in the
 * memory store (`github/monitor/<owner>/<repo>.json`).
 */

export type ItemKind = "issue" | "pull_request";

export interface Actor {
  readonly login: string;
  /** GitHub's author_association: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, FIRST_TIME_CONTRIBUTOR, FIRST_TIMER, MANNEQUIN, NONE. */
  readonly association: string;
}

export interface Activity extends Actor {
  /** ISO time the comment was created or the review submitted. */
  readonly at: string;
}

export interface ReviewFact extends Activity {
  readonly id: number;
  /** APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED. */
  readonly state: string;
}

export interface CheckFact {
  readonly status: string;
  readonly conclusion: string | null;
}

export interface ItemView {
  readonly number: number;
  readonly kind: ItemKind;
  readonly url: string;
  readonly author: Actor;
  readonly labels: readonly string[];
  readonly draft: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly commentCount: number;
  /** Why the item may be a regression or security report: matched labels, title words, the issue-form marker. */
  readonly riskSignals: readonly string[];
  readonly comments: readonly Activity[];
  /** Pull requests only. */
  readonly reviews: readonly ReviewFact[];
  readonly headSha?: string;
  readonly checks: readonly CheckFact[];
  /** When the monitor first saw this head (ISO), to know how long to keep polling its checks. */
  readonly headSeenAt?: string;
  /** ETags of the item's comments, reviews and check runs, for conditional re-requests. */
  readonly etags: { readonly comments?: string; readonly reviews?: string; readonly checks?: string };
}

/** One repository's cached view, as persisted. */
export interface RepoState {
  readonly version: 1;
  readonly repo: string;
  /** `since` of the next incremental list: the newest `updated_at` seen. Undefined before the first full sync. */
  readonly cursor?: string;
  /** ETag of the list request made with `since = cursor`. */
  readonly listEtag?: string;
  /** ETag of the open pull requests list (head SHAs). */
  readonly pullsEtag?: string;
  readonly items: Readonly<Record<string, ItemView>>;
}

export type RuleName =
  | "new_issue_no_maintainer_response"
  | "review_waiting"
  | "failing_checks"
  | "first_time_contributor_waiting"
  | "regression_or_security"
  | "approved_not_merged"
  | "stale_pr";

/** An item that needs a maintainer, with the rules that fired and why, in words made from the data. */
export interface FlaggedItem {
  readonly repo: string;
  readonly number: number;
  readonly kind: ItemKind;
  readonly rules: readonly RuleName[];
  readonly reason: string;
  readonly url: string;
  /** Sum of the rules' weights; higher first. */
  readonly score: number;
  readonly createdAt: string;
  /**
   * What each rule fired on (an opened-at time, a head SHA, an approval id, a last-activity
   * time): the same data gives the same anchors on every instance, so the digest's claim key
   * is the same everywhere, and a rule that fires again on new data is news again.
   */
  readonly anchors: readonly string[];
}

/** The JSON line of `clawdinator github digest --json`. */
export interface FlaggedLine {
  readonly repo: string;
  readonly number: number;
  readonly kind: ItemKind;
  readonly rules: readonly RuleName[];
  readonly reason: string;
  readonly url: string;
}

export function toLine(item: FlaggedItem): FlaggedLine {
  return { repo: item.repo, number: item.number, kind: item.kind, rules: item.rules, reason: item.reason, url: item.url };
}
