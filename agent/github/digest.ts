import { createHash } from "node:crypto";
import type { Logger } from "../log.ts";
import type { MemoryStore } from "../memory/types.ts";
import type { FlaggedItem } from "./types.ts";

/**
 * The attention digest. Written by code from the monitor's facts: every number, name and link
 * in it comes from the data, and no text from an issue or PR is in it at all (no titles, no
 * bodies, no check names), so a hostile body has nothing to change. The model has no part in it,
 * so it carries no tools and no authority of any kind.
 *
 * "Only what changed": an item is posted when its claim key is new. The key is a hash of the
 * repo, the number and the rules with what each fired on (see FlaggedItem.anchors), so the same
 * item with the same facts is never posted twice, and a new rule or new data (a new failing head,
 * a new approval) is news. With N instances, the memory store's `claim` lets exactly one of them
 * post each item; the claims outlive restarts.
 */

/** A year less a day (the store's maximum is a year): an item with unchanged facts is not posted again. */
const CLAIM_TTL_MS = 364 * 24 * 3_600_000;

export function claimKey(item: FlaggedItem): string {
  const fingerprint = [`${item.repo}#${item.number}`, ...[...item.anchors].sort()].join("\n");
  return `github-digest-${createHash("sha256").update(fingerprint).digest("hex").slice(0, 40)}`;
}

export interface DigestOptions {
  readonly memory: MemoryStore;
  readonly log: Logger;
  /** Most items in one post; the rest wait for the next digest. */
  readonly maxItems: number;
  /** @default a year less a day */
  readonly claimTtlMs?: number;
}

/**
 * Claims the news among `ranked` (in rank order) until `maxItems` are won, and returns those:
 * the items this instance, and only this one, is to post. An item whose claim fails (memory
 * unreachable) is skipped, never posted unclaimed.
 */
export async function claimNews(ranked: readonly FlaggedItem[], options: DigestOptions): Promise<FlaggedItem[]> {
  const won: FlaggedItem[] = [];
  for (const item of ranked) {
    if (won.length >= options.maxItems) break;
    try {
      if (await options.memory.claim(claimKey(item), options.claimTtlMs ?? CLAIM_TTL_MS)) won.push(item);
    } catch (error) {
      options.log.warn({ component: "github-digest", err: error, repo: item.repo, number: item.number }, "github: could not claim a digest item; not posting it");
    }
  }
  return won;
}

/** The digest as one message: ranked lines with rules, reason and link. Links are in <> so Discord shows no previews. */
export function renderDigest(items: readonly FlaggedItem[], heading: string, more = 0): string {
  const lines = [`**${heading}**`];
  items.forEach((item, index) => {
    const rules = item.rules.map((rule) => `\`${rule}\``).join(", ");
    lines.push(`${index + 1}. ${item.repo}#${item.number} ${rules}`, `   ${item.reason}`, `   <${item.url}>`);
  });
  if (more > 0) lines.push(`…and ${more} more (ask me for "triage" for the full list).`);
  return lines.join("\n");
}

/**
 * One scheduled digest: news among `ranked`, claimed, rendered. Undefined when there is nothing
 * new for this instance to post: the digest stays silent.
 */
export async function composeDigest(ranked: readonly FlaggedItem[], options: DigestOptions): Promise<{ text: string; items: FlaggedItem[] } | undefined> {
  const items = await claimNews(ranked, options);
  if (items.length === 0) return undefined;
  const heading = `GitHub: ${items.length} new item${items.length === 1 ? "" : "s"} need${items.length === 1 ? "s" : ""} a maintainer`;
  return { text: renderDigest(items, heading), items };
}

/** The on-demand `triage` answer: everything flagged now, ranked, whether posted before or not. */
export function renderTriage(ranked: readonly FlaggedItem[], maxItems: number): string {
  if (ranked.length === 0) return "Nothing on GitHub needs a maintainer right now.";
  const shown = ranked.slice(0, maxItems);
  return renderDigest(shown, `GitHub: ${ranked.length} item${ranked.length === 1 ? "" : "s"} need${ranked.length === 1 ? "s" : ""} a maintainer`, ranked.length - shown.length);
}
