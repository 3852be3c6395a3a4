/** Discord rejects a message longer than this (API error 50035). */
export const DISCORD_MESSAGE_LIMIT = 2000;

/** Below this a reopened code fence would leave no room for code. */
const MIN_LIMIT = 24;

/** A piece that is sent whole when it fits, and the whitespace that preceded it in the text. */
interface Atom {
  readonly text: string;
  readonly separator: string;
}

interface Segment {
  readonly kind: "prose" | "code";
  readonly lines: string[];
}

const FENCE = /^\s*(`{3,}|~{3,})/;

/**
 * Splits text into messages of at most `limit` characters (UTF-16 units, which never undercounts
 * Discord's limit). Breaks fall on the most sensible boundary that works: between paragraphs, then
 * lines, then sentences, then words, and only then mid-word. A code block that fits in one message
 * is never broken; one that does not is cut between lines, and each part is closed and reopened
 * with the same fence and language so every message renders as code.
 */
export function splitForDiscord(text: string, limit: number = DISCORD_MESSAGE_LIMIT): string[] {
  if (!Number.isInteger(limit) || limit < MIN_LIMIT) {
    throw new RangeError(`splitForDiscord: limit must be an integer of at least ${MIN_LIMIT}, got ${limit}`);
  }
  if (text.trim() === "") return [];
  if (text.length <= limit) return [text];
  const atoms = segmentsOf(text).flatMap((segment, index) => {
    const separator = index === 0 ? "" : "\n";
    const body = segment.lines.join("\n");
    const pieces = segment.kind === "code" ? splitCode(segment.lines, limit) : splitProse(body, limit, 0);
    return pieces.map((piece, i) => (i === 0 ? { ...piece, separator } : piece));
  });
  return pack(atoms, limit);
}

/** Cuts the text into prose and fenced code blocks, by lines. An unclosed fence runs to the end. */
function segmentsOf(text: string): Segment[] {
  const segments: Segment[] = [];
  let current: Segment | undefined;
  let fence: string | undefined;
  for (const line of text.split("\n")) {
    if (fence === undefined) {
      const opening = FENCE.exec(line);
      if (opening) {
        fence = opening[1];
        current = { kind: "code", lines: [line] };
        segments.push(current);
        continue;
      }
      if (current?.kind !== "prose") {
        current = { kind: "prose", lines: [] };
        segments.push(current);
      }
      current.lines.push(line);
    } else {
      current?.lines.push(line);
      const closing = FENCE.exec(line);
      if (closing?.[1]?.startsWith(fence) && line.trim() === closing[1]) {
        fence = undefined;
        current = undefined;
      }
    }
  }
  return segments;
}

/** Prose boundaries, best first. A sentence ends at . ! or ? followed by whitespace. */
const PROSE_BOUNDARIES: readonly RegExp[] = [/(\n[ \t]*\n\s*)/, /(\n)/, /(?<=[.!?])(\s+)/, /(\s+)/];

function splitProse(text: string, limit: number, level: number): Atom[] {
  if (text.length <= limit) return [{ text, separator: "" }];
  const boundary = PROSE_BOUNDARIES[level];
  if (boundary === undefined) return hardCut(text, limit).map((piece) => ({ text: piece, separator: "" }));
  // split() with a capture group alternates text and separator.
  const parts = text.split(boundary);
  const atoms: Atom[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const part = parts[i] ?? "";
    const separator = i === 0 ? "" : (parts[i - 1] ?? "");
    if (part === "") continue;
    const pieces = splitProse(part, limit, level + 1);
    pieces.forEach((piece, j) => atoms.push(j === 0 ? { ...piece, separator } : piece));
  }
  return atoms;
}

/** A code block too long for one message: whole lines per part, each part fenced on its own. */
function splitCode(lines: readonly string[], limit: number): Atom[] {
  const whole = lines.join("\n");
  if (whole.length <= limit) return [{ text: whole, separator: "" }];
  const opening = lines[0] ?? "```";
  const fence = FENCE.exec(opening)?.[1] ?? "```";
  const last = lines.at(-1) ?? "";
  const closed = lines.length > 1 && last.trim().startsWith(fence) && last.trim().replaceAll(fence[0] ?? "`", "") === "";
  const body = lines.slice(1, closed ? -1 : undefined);
  // Room for code once the part is wrapped in "<opening>\n" ... "\n<fence>"; an absurdly long
  // opening line (a long language tag) is dropped rather than breaking the limit.
  const open = opening.length + fence.length + 2 <= limit / 2 ? opening : fence;
  const room = limit - open.length - fence.length - 2;
  const parts: string[] = [];
  let current: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (current.length > 0) parts.push(`${open}\n${current.join("\n")}\n${fence}`);
    current = [];
    size = 0;
  };
  for (const line of body.flatMap((l) => (l.length > room ? hardCut(l, room) : [l]))) {
    const added = (current.length === 0 ? 0 : 1) + line.length;
    if (size + added > room) flush();
    size += (current.length === 0 ? 0 : 1) + line.length;
    current.push(line);
  }
  flush();
  return parts.map((text) => ({ text, separator: "\n" }));
}

/** Cuts at `size` units, never between the halves of a surrogate pair. */
function hardCut(text: string, size: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end -= 1;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

/** Fills each message greedily with whole atoms; the separator at a break is dropped. */
function pack(atoms: readonly Atom[], limit: number): string[] {
  const messages: string[] = [];
  let current = "";
  for (const atom of atoms) {
    const joined = current === "" ? atom.text : current + atom.separator + atom.text;
    if (joined.length <= limit) {
      current = joined;
      continue;
    }
    if (current.trim() !== "") messages.push(current.trimEnd());
    current = atom.text;
  }
  if (current.trim() !== "") messages.push(current.trimEnd());
  return messages.map((m) => m.replace(/^\s*\n/, ""));
}
