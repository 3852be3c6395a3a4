import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { assetPath } from "../assets.ts";
import { errorCode } from "../config/errors.ts";
import { MemoryError } from "./errors.ts";
import { checkMemoryPath, MEMORY_EXTENSIONS } from "./paths.ts";
import { openMemoryStore } from "./store.ts";
import type { MemoryStore } from "./types.ts";

/** The `memory/` folder shipped with the agent (agent/assets.ts): the templates a fresh hive mind starts from. */
export const DEFAULT_TEMPLATES_DIR: string = assetPath("memory/");

export interface SeedResult {
  /** Memory paths written from templates, sorted; empty when the root already held memory. */
  readonly created: readonly string[];
  /** Files the root held before seeding (0 when it was seeded). */
  readonly existing: number;
}

/**
 * Seeds an empty memory root with the templates (every `.md`/`.json` file under `templatesDir`,
 * folders kept). A root that already holds any memory file is left exactly as it is. Safe when
 * several instances start at once on the same EFS root: each file is created through `edit`, under
 * its lock, and only while it is still empty, so nothing anyone wrote is ever replaced.
 */
export async function seedMemory(target: MemoryStore | string, templatesDir: string = DEFAULT_TEMPLATES_DIR): Promise<SeedResult> {
  const store = typeof target === "string" ? await openMemoryStore({ root: target, instance: "seed" }) : target;
  const templates = await readTemplates(templatesDir);
  const existing = (await store.list()).length;
  if (existing > 0) return { created: [], existing };
  const created: string[] = [];
  for (const [memoryPath, content] of templates) {
    let wrote = false;
    await store.edit(memoryPath, (current) => {
      if (current !== "") return current;
      wrote = true;
      return content;
    });
    if (wrote) created.push(memoryPath);
  }
  return { created: created.sort(), existing: 0 };
}

/** Template path → content, refusing names the store would refuse (so a bad template fails at seed time, with its name). */
export async function readTemplates(templatesDir: string): Promise<Map<string, string>> {
  const templates = new Map<string, string>();
  const walk = async (folder: string, relative: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      throw new MemoryError("MEMORY_SEED_INVALID", `cannot read the memory templates folder ${folder} (${errorCode(error)})`, {
        fix: "Point seeding at the repository's memory/ folder (it ships with the agent).",
        cause: error,
      });
    }
    for (const entry of entries) {
      const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.name.startsWith(".")) continue;
      if (entry.isDirectory()) await walk(path.join(folder, entry.name), child);
      else if (entry.isFile() && MEMORY_EXTENSIONS.includes(path.extname(entry.name))) {
        templates.set(checkMemoryPath(child), await readFile(path.join(folder, entry.name), "utf8"));
      }
    }
  };
  await walk(templatesDir, "");
  if (templates.size === 0) {
    throw new MemoryError("MEMORY_SEED_INVALID", `the memory templates folder ${templatesDir} holds no .md or .json file`, {
      fix: "Point seeding at the repository's memory/ folder.",
    });
  }
  return templates;
}
