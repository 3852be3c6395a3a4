/**
 * Authority follows origin. Every piece of text in a turn is either the maintainer's own words or
 * third party: anyone else's message (quoted, replied to, forwarded), memory content, GitHub text,
 * web or sandbox output, and any tool result carrying these. The brain offers act tools only while
 * nothing third party is in the turn (see `TurnAuthority` in brain/authority.ts); docs/SECURITY.md.
 */
export type Origin = "maintainer" | "third-party";

/** Text that came with a message but is not its own words: a replied-to or forwarded message. */
export interface ContextPiece {
  readonly origin: Origin;
  /** Where it came from, for the data fence, e.g. `discord message by mallory (id 66)`. */
  readonly source: string;
  readonly text: string;
}

/** A Discord/markdown quote: lines starting with `>` (or `>>>` for the rest of the message). */
const QUOTE_LINE = /^\s*>/;

/**
 * Splits a maintainer's message into its own lines and the quoted ones. A quote is someone
 * else's words pasted in; it counts as third party however the maintainer framed it.
 */
export function splitQuotes(text: string): { own: string; quoted: string[] } {
  const own: string[] = [];
  const quoted: string[] = [];
  let restQuoted = false;
  for (const line of text.split("\n")) {
    if (restQuoted || QUOTE_LINE.test(line)) {
      if (/^\s*>>>/.test(line)) restQuoted = true;
      quoted.push(line.replace(/^\s*>{1,3}\s?/, ""));
    } else {
      own.push(line);
    }
  }
  return { own: own.join("\n"), quoted };
}
