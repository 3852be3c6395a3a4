/**
 * The GitHub layer's tunables in one place: the config schema (`github.*`), the client and the
 * monitor all read them, so no prose or second file repeats the numbers.
 */
export const GITHUB_DEFAULTS = {
  /** Seconds between monitor cycles. 50 repos every 60 s costs 3,000 conditional requests an hour, all free when idle. */
  pollSeconds: 60,
  /** Minutes between scheduled digests. */
  digestMinutes: 60,
  /** Most items one digest (or one `triage`) shows; the rest are counted. */
  digestMaxItems: 15,
  /** A check run with no conclusion yet, or a head with no runs, is polled again for this long after its head was first seen. */
  checksSettleMinutes: 120,
  /** Installation tokens are renewed this long before `expires_at` (GitHub issues them for one hour). */
  tokenRefreshBeforeMs: 5 * 60_000,
  /** Retries of a 5xx (plugin-retry), and of a secondary rate limit (plugin-throttling). */
  retries: 3,
  /** The longest wait for a primary rate-limit reset the client accepts before it gives up the request. */
  maxRateLimitWaitSeconds: 120,
  /** Responses kept for conditional re-requests by the read tools (in process). */
  etagCacheEntries: 256,
  /** Repo seeds: minutes between `git fetch`es of the configured repos. */
  seedRefreshMinutes: 30,
  /** Estimated tokens (characters / 4) of repo docs loaded into the model's context. */
  contextTokenBudget: 4_000,
} as const;

/** Thresholds of the attention rules (agent/github/rules.ts); `github.attention.*` in the config. */
export const ATTENTION_DEFAULTS = {
  /** new_issue_no_maintainer_response fires from this age (hours)… */
  newIssueMinHours: 48,
  /** …up to this age (days). */
  newIssueMaxDays: 30,
  /** review_waiting: a non-maintainer's PR with no maintainer comment or review, from this age (hours). */
  reviewWaitingHours: 72,
  /** first_time_contributor_waiting: from this age (hours). */
  firstTimeContributorHours: 24,
  /** approved_not_merged: a maintainer's approval at least this old (hours). */
  approvedNotMergedHours: 48,
  /** stale_pr: no activity (created, comment, review) for this many days. */
  stalePrDays: 30,
} as const;

/** What an installation token is requested with: read-only, whatever the App itself was granted. */
export const READ_ONLY_PERMISSIONS = {
  metadata: "read",
  contents: "read",
  issues: "read",
  pull_requests: "read",
  checks: "read",
} as const satisfies Record<string, "read">;
