// Each attention rule fires on its case and not on its near-miss (an hour short, a bot's comment,
// a non-maintainer's approval, a draft, a maintainer's response), through the real monitor and
// client against the local GitHub API.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FlaggedItem } from "../../agent/github/types.ts";
import { DAY, HOUR, type GithubFake } from "../fakes/github/server.ts";
import { appFake } from "./helpers.ts";
import { memoryAt, monitorOn, tempDir } from "./harness.ts";

const STRANGER = { login: "stranger", association: "NONE" as const };
const CONTRIBUTOR = { login: "regular", association: "CONTRIBUTOR" as const };
const FIRST = { login: "newbie", association: "FIRST_TIME_CONTRIBUTOR" as const };
const MEMBER = { login: "maria", association: "MEMBER" as const };
const COLLABORATOR = { login: "colin", association: "COLLABORATOR" as const };
const BOT = { login: "dependabot[bot]", association: "NONE" as const };
/** A bot that is even a collaborator: still never a maintainer. */
const BOT_COLLABORATOR = { login: "ci-helper[bot]", association: "COLLABORATOR" as const };
/** A configured maintainer login with no association. */
const CONFIGURED = { login: "trusted-dev", association: "NONE" as const };

describe("attention rules", () => {
  let fake: GithubFake;
  let flagged: Map<string, FlaggedItem>;
  const cases = new Map<string, number>();
  let cleanup: () => Promise<void>;

  before(async () => {
    fake = await appFake();
    const repo = fake.repo("acme/rules");
    const add = (name: string, number: number): void => void cases.set(name, number);

    // new_issue_no_maintainer_response
    add("new issue 48 h", repo.addIssue({ author: STRANGER, age: 48 * HOUR }));
    add("new issue 47 h", repo.addIssue({ author: STRANGER, age: 47 * HOUR }));
    add("new issue 31 days", repo.addIssue({ author: STRANGER, age: 31 * DAY }));
    const botOnly = repo.addIssue({ author: STRANGER, age: 3 * DAY });
    repo.comment(botOnly, BOT, "Thanks for the report!");
    repo.comment(botOnly, BOT_COLLABORATOR, "Triaged automatically.");
    add("new issue with only bot comments", botOnly);
    const answered = repo.addIssue({ author: STRANGER, age: 3 * DAY });
    repo.comment(answered, COLLABORATOR, "Looking at it.");
    add("new issue answered by a collaborator", answered);
    const configured = repo.addIssue({ author: STRANGER, age: 3 * DAY });
    repo.comment(configured, CONFIGURED, "Looking at it.");
    add("new issue answered by a configured maintainer", configured);
    const selfAnswered = repo.addIssue({ author: CONTRIBUTOR, age: 3 * DAY });
    repo.comment(selfAnswered, CONTRIBUTOR, "More details.");
    add("new issue with only the author's comment", selfAnswered);
    add("new issue by a member", repo.addIssue({ author: MEMBER, age: 3 * DAY }));

    // review_waiting
    add("pr 72 h", repo.addPull({ author: CONTRIBUTOR, age: 72 * HOUR }));
    add("pr 71 h", repo.addPull({ author: CONTRIBUTOR, age: 71 * HOUR }));
    add("draft pr 10 days", repo.addPull({ author: CONTRIBUTOR, age: 10 * DAY, draft: true }));
    const reviewed = repo.addPull({ author: CONTRIBUTOR, age: 5 * DAY });
    repo.review(reviewed, MEMBER, "COMMENTED", 1 * DAY);
    add("pr reviewed by a member", reviewed);
    const botReviewed = repo.addPull({ author: CONTRIBUTOR, age: 5 * DAY });
    repo.review(botReviewed, BOT_COLLABORATOR, "COMMENTED", 1 * DAY);
    add("pr reviewed by a bot", botReviewed);

    // failing_checks (authors are members so review_waiting stays out of the way)
    const failing = repo.addPull({ author: MEMBER, age: 2 * HOUR });
    repo.checkRun(failing, "test", "failure");
    repo.checkRun(failing, "lint", "success");
    add("pr with a failing check", failing);
    const timedOut = repo.addPull({ author: MEMBER, age: 2 * HOUR });
    repo.checkRun(timedOut, "e2e", "timed_out");
    add("pr with a timed-out check", timedOut);
    const passing = repo.addPull({ author: MEMBER, age: 2 * HOUR });
    repo.checkRun(passing, "test", "success");
    repo.checkRun(passing, "flaky", "cancelled");
    repo.checkRun(passing, "docs", "neutral");
    add("pr with passing, cancelled and neutral checks", passing);
    const draftFailing = repo.addPull({ author: MEMBER, age: 2 * HOUR, draft: true });
    repo.checkRun(draftFailing, "test", "failure");
    add("draft pr with a failing check", draftFailing);

    // first_time_contributor_waiting
    add("first-timer 24 h", repo.addIssue({ author: FIRST, age: 24 * HOUR }));
    add("first-timer 23 h", repo.addIssue({ author: FIRST, age: 23 * HOUR }));
    const firstAnswered = repo.addPull({ author: FIRST, age: 30 * HOUR });
    repo.comment(firstAnswered, MEMBER, "Welcome!");
    add("first-timer answered", firstAnswered);

    // regression_or_security (young, so new_issue does not fire)
    add("title no longer works", repo.addIssue({ author: STRANGER, age: HOUR, title: "Login no longer works after 2.3" }));
    add("security label", repo.addIssue({ author: STRANGER, age: HOUR, title: "Question", labels: ["security"] }));
    add(
      "regression form marker",
      repo.addIssue({ author: STRANGER, age: HOUR, title: "Crash", body: "### Kind\n\nRegression (worked before, now fails)\n" }),
    );
    const riskAnswered = repo.addIssue({ author: STRANGER, age: HOUR, title: "Token leak in logs" });
    repo.comment(riskAnswered, MEMBER, "Confirmed, fixing.");
    add("risk answered by a member", riskAnswered);
    add("risk by a member", repo.addIssue({ author: MEMBER, age: HOUR, title: "CVE-2026-1234 in a dependency" }));
    add("no risk", repo.addIssue({ author: STRANGER, age: HOUR, title: "Typo in README", body: "the security of the docs is fine" }));
    add("closed risk", repo.addIssue({ author: STRANGER, age: HOUR, title: "SQL injection" }));
    repo.close(cases.get("closed risk") ?? 0);

    // approved_not_merged (authors are members)
    const approved = repo.addPull({ author: MEMBER, age: 5 * DAY });
    repo.review(approved, COLLABORATOR, "APPROVED", 48 * HOUR);
    add("approved 48 h ago", approved);
    const approvedRecently = repo.addPull({ author: MEMBER, age: 5 * DAY });
    repo.review(approvedRecently, COLLABORATOR, "APPROVED", 47 * HOUR);
    add("approved 47 h ago", approvedRecently);
    const strangerApproved = repo.addPull({ author: MEMBER, age: 5 * DAY });
    repo.review(strangerApproved, CONTRIBUTOR, "APPROVED", 4 * DAY);
    add("approved by a non-maintainer", strangerApproved);
    const changesAfter = repo.addPull({ author: MEMBER, age: 5 * DAY });
    repo.review(changesAfter, COLLABORATOR, "APPROVED", 4 * DAY);
    repo.review(changesAfter, MEMBER, "CHANGES_REQUESTED", 2 * DAY);
    add("approved, then changes requested", changesAfter);
    const merged = repo.addPull({ author: MEMBER, age: 5 * DAY });
    repo.review(merged, COLLABORATOR, "APPROVED", 4 * DAY);
    repo.close(merged, true);
    add("approved and merged", merged);

    // stale_pr
    add("pr idle 30 days", repo.addPull({ author: MEMBER, age: 30 * DAY }));
    add("pr idle 30 days less an hour", repo.addPull({ author: MEMBER, age: 30 * DAY - HOUR }));
    const botKeptAlive = repo.addPull({ author: MEMBER, age: 40 * DAY });
    repo.comment(botKeptAlive, BOT, "This PR is stale.", 1 * DAY);
    add("pr with only a bot comment since", botKeptAlive);
    const humanKeptAlive = repo.addPull({ author: MEMBER, age: 40 * DAY });
    repo.comment(humanKeptAlive, CONTRIBUTOR, "Still needed!", 29 * DAY);
    add("pr with a human comment 29 days ago", humanKeptAlive);

    const { dir, remove } = await tempDir();
    cleanup = remove;
    const monitor = monitorOn(fake, await memoryAt(dir), [{ name: "acme/rules", maintainers: ["trusted-dev"] }]);
    const results = await monitor.cycle();
    assert.deepEqual(
      results.map((r) => r.ok),
      [true],
    );
    flagged = new Map(monitor.flagged().map((item) => [[...cases].find(([, n]) => n === item.number)?.[0] ?? String(item.number), item]));
  });
  after(async () => {
    await fake.close();
    await cleanup();
  });

  const rulesOf = (name: string): readonly string[] => flagged.get(name)?.rules ?? [];

  const expectations: [string, readonly string[]][] = [
    ["new issue 48 h", ["new_issue_no_maintainer_response"]],
    ["new issue 47 h", []],
    ["new issue 31 days", []],
    ["new issue with only bot comments", ["new_issue_no_maintainer_response"]],
    ["new issue answered by a collaborator", []],
    ["new issue answered by a configured maintainer", []],
    ["new issue with only the author's comment", ["new_issue_no_maintainer_response"]],
    ["new issue by a member", []],
    ["pr 72 h", ["review_waiting"]],
    ["pr 71 h", []],
    ["draft pr 10 days", []],
    ["pr reviewed by a member", []],
    ["pr reviewed by a bot", ["review_waiting"]],
    ["pr with a failing check", ["failing_checks"]],
    ["pr with a timed-out check", ["failing_checks"]],
    ["pr with passing, cancelled and neutral checks", []],
    ["draft pr with a failing check", []],
    ["first-timer 24 h", ["first_time_contributor_waiting"]],
    ["first-timer 23 h", []],
    ["first-timer answered", []],
    ["title no longer works", ["regression_or_security"]],
    ["security label", ["regression_or_security"]],
    ["regression form marker", ["regression_or_security"]],
    ["risk answered by a member", []],
    ["risk by a member", []],
    ["no risk", []],
    ["closed risk", []],
    ["approved 48 h ago", ["approved_not_merged"]],
    ["approved 47 h ago", []],
    ["approved by a non-maintainer", []],
    ["approved, then changes requested", []],
    ["approved and merged", []],
    ["pr idle 30 days", ["stale_pr"]],
    ["pr idle 30 days less an hour", []],
    ["pr with only a bot comment since", ["stale_pr"]],
    ["pr with a human comment 29 days ago", []],
  ];
  for (const [name, rules] of expectations) {
    it(`${name}: ${rules.length === 0 ? "nothing fires" : rules.join(", ")}`, () => {
      assert.deepEqual(rulesOf(name), rules);
    });
  }

  it("every flagged item carries its reason in words and its link, and the list is ranked", () => {
    const items = [...flagged.values()];
    for (const item of items) {
      assert.match(item.reason, /^(Issue|PR) .+\.$/);
      assert.match(item.url, /^https:\/\/github\.com\/acme\/rules\/(issues|pull)\/\d+$/);
    }
    const scores = items.map((i) => i.score);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
    assert.equal(items[0]?.rules[0], "regression_or_security");
    assert.match(flagged.get("new issue 48 h")?.reason ?? "", /^Issue opened 2 days ago by @stranger, no maintainer response\.$/);
    assert.match(flagged.get("title no longer works")?.reason ?? "", /title says "no longer works"/);
    assert.match(flagged.get("pr with a failing check")?.reason ?? "", /checks failing on head [0-9a-f]{7} \(1 failure\)/);
    assert.match(flagged.get("approved 48 h ago")?.reason ?? "", /approved by @colin 2 days ago, not merged/);
  });
});
