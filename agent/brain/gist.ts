import { splitQuotes } from "../origin.ts";
import { maskTokenShapes as maskTokens } from "../scrub.ts";
import type { IncomingMessage } from "../transport/types.ts";

/**
 * The hive mind's record of an exchange: one line, where, who asked what and what was answered,
 * short enough to skim a day of them. The brain appends it to the day's shared memory note
 * (`appendDailyNote` prefixes the time and instance) so a restarted unit or a sibling knows what
 * was discussed. Never a secret: known secret values are scrubbed by the caller's `scrub`, and
 * anything shaped like a well-known token is masked here as well.
 */

export interface GistInput {
  readonly message: IncomingMessage;
  readonly reply: string;
  readonly tools: readonly string[];
  /** The exchange held third-party text: the gist says so, and quoted lines are left out. */
  readonly thirdParty?: boolean;
}

const GIST_ASK_CHARS = 160;
const GIST_ANSWER_CHARS = 240;

export function gistText(input: GistInput, scrub: (text: string) => string = (t) => t): string {
  const { message, reply, tools, thirdParty } = input;
  // Clean before clipping: a secret cut in half by the clip would no longer match its value.
  const clean = (text: string): string => maskTokens(scrub(text));
  const who = message.origin === "internal" ? "internal task" : `${oneLine(clean(message.author.name), 40)} (${message.author.id})`;
  const { own, quoted } = splitQuotes(message.text);
  const asked = clip(clean(quoted.length > 0 ? `${own} [+${quoted.length} quoted lines]` : message.text), GIST_ASK_CHARS);
  const answered = clip(clean(reply), GIST_ANSWER_CHARS);
  const used = tools.length > 0 ? ` [tools: ${[...new Set(tools)].join(", ")}]` : "";
  const mark = thirdParty ? " [third-party text in this exchange]" : "";
  return `${oneLine(clean(message.conversation), 60)}${mark} · ${who} asked: "${asked}" → "${answered}"${used}`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function clip(text: string, max: number): string {
  return oneLine(text, max).replace(/"/g, "'");
}
