/**
 * The one scrubber for everything that leaves the process: outgoing Discord messages (the router),
 * memory writes and daily-note gists (the brain), and log lines (`ScrubbingSink` in log.ts).
 *
 * A configured secret is caught as itself, JSON-escaped, in base64 (standard and url-safe, at any
 * byte offset inside a larger blob) and in hex; as any run of `RUN` or more of its characters; and
 * split across lines (whitespace and `\n`-style escapes between its characters are ignored while
 * matching). Well-known token shapes are masked whoever pasted them (`TOKEN_SHAPES`).
 */

export const REDACTED = "[REDACTED]";
/** What may sit between the characters of a secret split across lines: whitespace and `\n`-style escapes. */
const IGNORED_BETWEEN = /\s+|\\[nrt]/g;
/** Shortest secret value scrubbed (shorter ones would blank ordinary words). */
const MIN_SECRET = 4;
/** A run of this many characters of a secret is a leak: 16 characters of a random key are ~96 bits. */
const RUN = 16;

/**
 * Credential shapes that must never leave, configured or not. Each has a cheap guard (a substring
 * or a regex anchored on a literal) so an ordinary log line costs a few `includes`, not ten scans.
 */
const TOKEN_SHAPES: ReadonlyArray<{ readonly guard: string | RegExp; readonly shape: RegExp }> = [
  { guard: "PRIVATE KEY-----", shape: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g },
  { guard: "sk-", shape: /\bsk-ant-[A-Za-z0-9_-]{8,}/g },
  { guard: "sk-", shape: /\bsk-[A-Za-z0-9_-]{20,}/g },
  { guard: /gh[pousr]_/, shape: /\bgh[pousr]_[A-Za-z0-9]{20,}/g },
  { guard: "github_pat_", shape: /\bgithub_pat_[A-Za-z0-9_]{20,}/g },
  { guard: "xox", shape: /\bxox[abpr]-[A-Za-z0-9-]{10,}/g },
  { guard: /A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)[0-9A-Z]{16}/, shape: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/g },
  { guard: /ccess_?key/i, shape: /\b(?:aws_?secret_?access_?key|secret_?access_?key)["'\s]*[:=]\s*["']?[A-Za-z0-9/+=]{40}/gi },
  { guard: "AGE-SECRET-KEY-1", shape: /AGE-SECRET-KEY-1[0-9A-Z]{20,}/g },
  // Discord bot tokens: base64 user id, a timestamp, an HMAC, joined by dots.
  { guard: /\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27}/, shape: /[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}/g },
];

/** Masks the well-known token shapes only (no configured values). */
export function maskTokenShapes(text: string): string {
  return applyRanges(text, shapeRanges(text));
}

export class SecretScrubber {
  /** Forms shorter than RUN, matched exactly, longest first. */
  private exact: string[] = [];
  /** Every RUN-character window of every longer form, whitespace removed. */
  private readonly windows = new Set<string>();
  /** The rolling hashes of `windows`, so a scan allocates no string until a hash matches. */
  private readonly hashes = new Set<number>();

  /** Adds secret values (undefined and very short ones are skipped). */
  add(values: Iterable<string | undefined>): void {
    for (const raw of values) {
      const value = raw?.trim();
      if (!value || value.length < MIN_SECRET) continue;
      for (const form of formsOf(value)) {
        const compact = form.replace(/\s+/g, "");
        if (compact.length >= RUN) {
          for (let i = 0; i + RUN <= compact.length; i++) {
            const window = compact.slice(i, i + RUN);
            this.windows.add(window);
            this.hashes.add(rollingHashes(window)[0] ?? 0);
          }
        }
        else if (compact.length >= MIN_SECRET) this.exact.push(compact);
      }
    }
    this.exact = [...new Set(this.exact)].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    if (text === "") return text;
    const ranges = [...this.windowRanges(text), ...this.exactRanges(text), ...shapeRanges(text)];
    return ranges.length === 0 ? text : applyRanges(text, ranges);
  }

  /** Runs of RUN characters of a secret, ignoring whitespace and `\n`/`\r`/`\t` escapes between them. */
  private windowRanges(text: string): Array<[number, number]> {
    if (this.windows.size === 0 || text.length < RUN) return [];
    // Fast path: most text holds no run of a secret at all.
    const squeezed = text.replace(IGNORED_BETWEEN, "");
    const hashes = rollingHashes(squeezed);
    let hit = false;
    for (let i = 0; i < hashes.length && !hit; i++) hit = this.hashes.has(hashes[i] ?? 0) && this.windows.has(squeezed.slice(i, i + RUN));
    if (!hit) return [];
    const chars: string[] = [];
    const at: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text[i] ?? "";
      if (/\s/.test(c)) continue;
      if (c === "\\" && /[nrt]/.test(text[i + 1] ?? "")) {
        i++;
        continue;
      }
      chars.push(c);
      at.push(i);
    }
    const compact = chars.join("");
    const ranges: Array<[number, number]> = [];
    for (let i = 0; i + RUN <= compact.length; i++) {
      if (this.windows.has(compact.slice(i, i + RUN))) ranges.push([at[i] ?? 0, (at[i + RUN - 1] ?? 0) + 1]);
    }
    return ranges;
  }

  private exactRanges(text: string): Array<[number, number]> {
    const ranges: Array<[number, number]> = [];
    for (const needle of this.exact) {
      for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) ranges.push([i, i + needle.length]);
    }
    return ranges;
  }
}

const BASE = 31;
/** BASE^(RUN-1) mod 2^32, to drop the character leaving the window. */
const TOP = Array.from({ length: RUN - 1 }).reduce<number>((power) => Math.imul(power, BASE) >>> 0, 1);

/** The hash of every RUN-character window of `text`, by start index (a polynomial rolling hash mod 2^32). */
function rollingHashes(text: string): Uint32Array {
  const count = Math.max(0, text.length - RUN + 1);
  const out = new Uint32Array(count);
  if (count === 0) return out;
  let hash = 0;
  for (let i = 0; i < RUN; i++) hash = (Math.imul(hash, BASE) + text.charCodeAt(i)) >>> 0;
  out[0] = hash;
  for (let i = 1; i < count; i++) {
    hash = (hash - Math.imul(text.charCodeAt(i - 1), TOP)) >>> 0;
    hash = (Math.imul(hash, BASE) + text.charCodeAt(i + RUN - 1)) >>> 0;
    out[i] = hash;
  }
  return out;
}

/** The value, JSON-escaped, base64 at each byte offset (the part that does not depend on its neighbours), and hex. */
function formsOf(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const forms = [value, JSON.stringify(value).slice(1, -1), bytes.toString("hex"), bytes.toString("hex").toUpperCase()];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString("base64");
    // Drop the first group when it mixes in the unknown bytes before, and the last when it mixes in those after.
    const inner = encoded.slice(shift > 0 ? 4 : 0, Math.floor((shift + bytes.length) / 3) * 4);
    forms.push(inner, inner.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return forms.filter((form) => form.length > 0);
}

function shapeRanges(text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const { guard, shape } of TOKEN_SHAPES) {
    if (typeof guard === "string" ? !text.includes(guard) : !guard.test(text)) continue;
    for (const match of text.matchAll(shape)) ranges.push([match.index, match.index + match[0].length]);
  }
  return ranges;
}

/** Replaces each (merged) range with REDACTED. */
function applyRanges(text: string, ranges: Array<[number, number]>): string {
  if (ranges.length === 0) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  let out = "";
  let cursor = 0;
  let [start, end] = ranges[0] ?? [0, 0];
  for (const [s, e] of ranges.slice(1)) {
    if (s <= end) {
      end = Math.max(end, e);
      continue;
    }
    out += text.slice(cursor, start) + REDACTED;
    cursor = end;
    [start, end] = [s, e];
  }
  return out + text.slice(cursor, start) + REDACTED + text.slice(end);
}
