import { lstat, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { MemoryPathError } from "./errors.ts";

/** File types that live in memory: notes and small structured records. */
export const MEMORY_EXTENSIONS: readonly string[] = [".md", ".json"];

/**
 * Limits in UTF-8 bytes, which is what file systems count (a "€" is 3). NAME_MAX is 255 bytes on
 * ext4, xfs and NFS (EFS), and the store writes every file through a temp file named
 * `.NAME.<16 hex>.tmp`, 22 bytes longer: so a name may have at most 233 bytes. 200 leaves room and
 * keeps the old limit of 200 characters for ASCII names. Lock file names are hashed when long (store.ts).
 */
const MAX_NAME_BYTES = 200;
/** The whole relative path; far below PATH_MAX (4096) once the root is in front of it. */
const MAX_PATH_BYTES = 512;
/** An input longer than this (UTF-16 units) is never carried whole in an error's `path` field. */
const MAX_ECHO_LENGTH = 100;

/**
 * Characters that never belong in a memory name: C0 and C1 controls, format characters (bidi
 * overrides and isolates, zero-width space/joiners, BOM, soft hyphen, tag characters), every
 * default-ignorable (invisible) code point, lone surrogates, private-use and unassigned code points,
 * line and paragraph separators, every space but the plain one, and backslashes. Each can make a
 * name look like another one, or hide part of it, in a listing or on Discord.
 */
const FORBIDDEN_CHARACTER =
  /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\\]/u;

/** Scripts with letters that pass for Latin ones; Latin mixed with one of them in a word is refused. */
const LOOKALIKE_SCRIPTS = [
  ["Cyrillic", /\p{Script=Cyrillic}/u],
  ["Greek", /\p{Script=Greek}/u],
  ["Armenian", /\p{Script=Armenian}/u],
  ["Cherokee", /\p{Script=Cherokee}/u],
] as const;
const LATIN_LETTER = /\p{Script=Latin}/u;
/**
 * Letters of those scripts that look like a Latin letter (from Unicode's confusables, the clear
 * cases). A word made only of these ("сор", Cyrillic) passes for a Latin word ("cop") and is refused;
 * real words in those scripts ("заметки", "Ελληνικά") hold other letters too and are kept.
 */
const LATIN_LOOKALIKES = new Set(
  "аеорсухѕіјԁһӏԛԝАВЕКМНОРСТХЅІЈҮԚԜ" + // Cyrillic
    "αινορυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ" + // Greek
    "օսհոցզ" + // Armenian
    "ᎪᏴᏟᎠᎬᏀᎻᏆᎫᏦᏞᎷᏃᎾᏢᏒᏚᏙᏔᎳᎽᏃ", // Cherokee
);

/**
 * Checks a memory path and returns it normalised (`/` separators, no trailing slash). Pure: looks
 * at the string only. Hidden segments (`.locks`, temp files) are reserved for the store itself.
 * Errors never carry a long input whole: messages show a short printable prefix and the length.
 */
export function checkMemoryPath(input: string, { requireExtension = true }: { requireExtension?: boolean } = {}): string {
  if (typeof input !== "string" || input.trim() === "") {
    throw new MemoryPathError("MEMORY_PATH_INVALID", "a memory path is required", {
      path: String(input).slice(0, MAX_ECHO_LENGTH),
      fix: 'Name a file relative to the memory root, e.g. "project.md" or "daily/2026-11-24.md".',
    });
  }
  const shown = describeName(input);
  const field = input.length <= MAX_ECHO_LENGTH ? input : shown;
  if (path.posix.isAbsolute(input) || path.win32.isAbsolute(input)) {
    throw new MemoryPathError("MEMORY_PATH_ABSOLUTE", `${shown} is an absolute path`, {
      path: field,
      fix: 'Memory paths are relative to the memory root: write "ops.md", not "/var/lib/clawd/memory/ops.md".',
    });
  }
  if (input.includes("\\")) {
    throw new MemoryPathError("MEMORY_PATH_INVALID", `${shown} has a backslash`, { path: field, fix: 'Use "/" between folders.' });
  }
  const forbidden = FORBIDDEN_CHARACTER.exec(input)?.[0];
  if (forbidden !== undefined) {
    throw new MemoryPathError("MEMORY_PATH_INVALID", `${shown} has a control or invisible character ${codePoint(forbidden)}`, {
      path: field,
      fix: "Use letters, digits, punctuation, symbols and plain spaces only; retype the name rather than pasting it.",
    });
  }
  const bytes = Buffer.byteLength(input, "utf8");
  if (bytes > MAX_PATH_BYTES) {
    throw new MemoryPathError("MEMORY_PATH_TOO_LONG", `${shown} is ${bytes} bytes in UTF-8, over the ${MAX_PATH_BYTES}-byte limit for a whole path`, {
      path: field,
      fix: "Use fewer or shorter folder and file names (a letter outside ASCII takes 2 to 4 bytes).",
    });
  }
  const segments = input.replace(/\/+$/, "").split("/");
  if (segments.includes("..")) {
    throw new MemoryPathError("MEMORY_PATH_TRAVERSAL", `${shown} climbs out of the memory root with ".."`, {
      path: field,
      fix: "Name the file from the memory root down, without any \"..\" segment.",
    });
  }
  for (const segment of segments) {
    if (segment === "" || segment === "." || segment.startsWith(".")) {
      throw new MemoryPathError("MEMORY_PATH_INVALID", `${shown} has an empty, "." or hidden segment (${describeName(segment)})`, {
        path: field,
        fix: "Use plain folder and file names; names starting with \".\" are reserved for the store's own lock and temp files.",
      });
    }
    const segmentBytes = Buffer.byteLength(segment, "utf8");
    if (segmentBytes > MAX_NAME_BYTES) {
      const where = segment === input ? "" : ` in ${shown}`;
      throw new MemoryPathError(
        "MEMORY_PATH_TOO_LONG",
        `the name ${describeName(segment)}${where} is ${segmentBytes} bytes in UTF-8, over the ${MAX_NAME_BYTES}-byte limit for one file or folder name`,
        {
          path: field,
          fix: `Shorten it: a letter outside ASCII takes 2 to 4 bytes, so ${MAX_NAME_BYTES} bytes are ${MAX_NAME_BYTES} ASCII letters but only ${Math.floor(MAX_NAME_BYTES / 3)} like "€".`,
        },
      );
    }
  }
  checkLookalikes(input, segments, shown, field);
  const normalised = segments.join("/");
  if (requireExtension && !MEMORY_EXTENSIONS.includes(path.posix.extname(normalised))) {
    throw new MemoryPathError("MEMORY_PATH_EXTENSION", `${shown} is not a markdown or JSON file`, {
      path: field,
      fix: `Memory holds ${MEMORY_EXTENSIONS.join(" and ")} files only: rename it, e.g. ${describeName(`${normalised.replace(/\.[^./]*$/, "")}.md`)}.`,
    });
  }
  return normalised;
}

/**
 * Refuses names that can pass for another one. Rule: a name must be in Unicode NFKC form (no
 * decomposed accents, no fullwidth, ligature or mathematical forms of ordinary letters), and no
 * word in it (a run of letters) may mix Latin with Cyrillic, Greek, Armenian or Cherokee letters, or
 * be made only of letters of those scripts that look like Latin ones. Names wholly in another
 * script ("日本.md", "заметки.md") are fine.
 */
function checkLookalikes(input: string, segments: readonly string[], shown: string, field: string): void {
  const nfkc = input.normalize("NFKC");
  if (nfkc !== input) {
    throw new MemoryPathError("MEMORY_PATH_CONFUSABLE", `${shown} is not in Unicode normal form (NFKC): some characters are lookalike or differently composed forms`, {
      path: field,
      fix: `Write it as ${describeName(nfkc)}.`,
    });
  }
  for (const segment of segments) {
    for (const word of segment.split(/[^\p{L}\p{M}]+/u)) {
      const letters = Array.from(word).filter((c) => /\p{L}/u.test(c));
      if (letters.length === 0) continue;
      const latin = letters.some((c) => LATIN_LETTER.test(c));
      for (const [script, pattern] of LOOKALIKE_SCRIPTS) {
        const foreign = letters.filter((c) => pattern.test(c));
        if (foreign.length === 0) continue;
        if (latin) {
          throw new MemoryPathError("MEMORY_PATH_CONFUSABLE", `the word ${describeName(word)} in ${shown} mixes Latin with ${script} letters, which look alike`, {
            path: field,
            fix: `Type the word again in one script: ${foreign.map((c) => `"${c}" is ${script} ${codePoint(c)}`).join(", ")}.`,
          });
        }
        if (foreign.length === letters.length && letters.every((c) => LATIN_LOOKALIKES.has(c))) {
          throw new MemoryPathError("MEMORY_PATH_CONFUSABLE", `the word ${describeName(word)} in ${shown} is made only of ${script} letters that look like Latin ones`, {
            path: field,
            fix: "Write it in Latin letters, or choose a name that cannot pass for a Latin one.",
          });
        }
      }
    }
  }
}

/**
 * A name as it may appear in a message or a log: quoted, every control or invisible character
 * shown as `\u{…}`, and cut to a short prefix with the full length when long, so a 5,000-character
 * (or hostile) name is never echoed back whole.
 */
export function describeName(text: string): string {
  const points = Array.from(text);
  let shown = "";
  let used = 0;
  for (const point of points) {
    if (shown.length >= 48) break;
    shown += (FORBIDDEN_CHARACTER.test(point) && point !== "\\") || point === '"' ? `\\u{${(point.codePointAt(0) ?? 0).toString(16).toUpperCase()}}` : point;
    used++;
  }
  return used < points.length ? `"${shown}…" (${points.length} characters)` : `"${shown}"`;
}

function codePoint(character: string): string {
  return `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Resolves a checked memory path to the canonical absolute path it lands on under `realRoot` (the
 * root's realpath): symlinks in the existing part resolved, the part that does not exist yet
 * appended. Refuses it when the file or any existing folder on the way is a symlink that resolves
 * outside the root. A symlink that stays inside the root is followed like any path, so two names
 * for one file resolve (and lock) the same.
 */
export async function resolveInsideRoot(realRoot: string, memoryPath: string, expect: "file" | "folder" = "file"): Promise<string> {
  const absolute = path.join(realRoot, ...memoryPath.split("/"));
  // The deepest part of the path that exists decides where the rest would land.
  let existing = absolute;
  const missingTail: string[] = [];
  for (;;) {
    try {
      const resolved = await realpath(existing);
      if (!isInside(realRoot, resolved)) {
        throw new MemoryPathError("MEMORY_PATH_SYMLINK_ESCAPE", `"${memoryPath}" leads out of the memory root through a symlink (to ${resolved})`, {
          path: memoryPath,
          fix: "Remove or fix the symlink; memory files and folders must stay inside the memory root.",
        });
      }
      if (existing === absolute && expect === "file") await refuseNonFile(absolute, memoryPath);
      return path.join(resolved, ...missingTail);
    } catch (error) {
      if (error instanceof MemoryPathError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && existing !== realRoot) {
        // A dangling symlink is ENOENT for realpath too: refuse it rather than write through it.
        if (await isSymlink(existing)) {
          throw new MemoryPathError("MEMORY_PATH_SYMLINK_ESCAPE", `"${memoryPath}" goes through a dangling symlink`, {
            path: memoryPath,
            fix: "Remove the symlink; memory files and folders must be real and inside the memory root.",
          });
        }
        missingTail.unshift(path.basename(existing));
        existing = path.dirname(existing);
        continue;
      }
      if (code === "ENOTDIR") {
        throw new MemoryPathError("MEMORY_PATH_NOT_A_FILE", `"${memoryPath}" runs through a file as if it were a folder`, {
          path: memoryPath,
          fix: "Pick a path whose folders are folders.",
        });
      }
      throw error;
    }
  }
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

async function refuseNonFile(absolute: string, memoryPath: string): Promise<void> {
  const stats = await stat(absolute);
  if (!stats.isFile()) {
    throw new MemoryPathError("MEMORY_PATH_NOT_A_FILE", `"${memoryPath}" is ${stats.isDirectory() ? "a folder" : "not a regular file"}`, {
      path: memoryPath,
      fix: "Name a regular file; to see a folder's files, list it (list(prefix) or `clawdinator memory ls PREFIX`).",
    });
  }
}

async function isSymlink(absolute: string): Promise<boolean> {
  const stats = await lstat(absolute).catch(() => undefined);
  return stats?.isSymbolicLink() ?? false;
}
