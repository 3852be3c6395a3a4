import { MemoryError } from "./errors.ts";
import type { MemoryStore } from "./types.ts";

/**
 * Daily notes. The shared note `daily/YYYY-MM-DD.md` (UTC date) is append-only: every instance
 * appends its one-line entries to it, tagged with its name, and append never loses a concurrent
 * entry. An instance that keeps a note it *rewrites* (a running summary it replaces with `write`)
 * uses its own `daily/YYYY-MM-DD_CLAWDINATOR-2.md`, because two instances replacing one file would
 * overwrite each other's words.
 */
export function dailyNotePath(date: Date, instance?: string): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new MemoryError("MEMORY_PATH_INVALID", `daily note date ${String(date)} is not a valid date`, {
      fix: "Pass a valid Date (the note is named after its UTC day).",
    });
  }
  const day = date.toISOString().slice(0, 10);
  if (instance === undefined) return `daily/${day}.md`;
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(instance)) {
    throw new MemoryError("MEMORY_PATH_INVALID", `instance name "${instance}" cannot be part of a file name`, {
      fix: 'Use the instance name from the config, e.g. "CLAWDINATOR-2".',
    });
  }
  return `daily/${day}_${instance}.md`;
}

/** Appends `- HH:MMZ INSTANCE: text` to the shared daily note of `now`'s UTC day; returns the note's path. */
export async function appendDailyNote(store: MemoryStore, entry: { instance: string; text: string; now?: Date }): Promise<string> {
  const now = entry.now ?? new Date();
  const notePath = dailyNotePath(now);
  const oneLine = entry.text.replace(/\s*\n\s*/g, " ").trim();
  await store.append(notePath, `- ${now.toISOString().slice(11, 16)}Z ${entry.instance}: ${oneLine}`);
  return notePath;
}
