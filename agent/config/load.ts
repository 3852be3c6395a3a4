import { readFile } from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { ConfigError, errorCode, type ConfigProblem } from "./errors.ts";
import { ConfigSchema, FIELD_EXAMPLES, INLINE_SECRET_KEYS, type Config } from "./schema.ts";

/** Where the configuration came from, for messages and `status`. */
export const EMBEDDED_DEFAULTS = "embedded defaults";

export interface LoadedConfig {
  readonly config: Config;
  readonly source: string;
}

/**
 * Reads and validates the configuration. With no path, the embedded defaults are used, which is a
 * complete local setup. Relative paths inside a file are resolved against the file's folder, so a
 * config works from any working directory.
 */
export async function loadConfig(configPath: string | undefined, cwd: string): Promise<LoadedConfig> {
  if (configPath === undefined) {
    return { config: resolvePaths(ConfigSchema.parse({}), cwd), source: EMBEDDED_DEFAULTS };
  }
  const absolute = path.resolve(cwd, configPath);
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (error) {
    throw new ConfigError(absolute, [
      {
        field: "",
        problem: `cannot read the file (${errorCode(error)})`,
        fix: "Check the --config path or CLAWDINATOR_CONFIG.",
      },
    ]);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(absolute, [
      { field: "", problem: `not valid JSON (${(error as Error).message})`, fix: "Fix the JSON syntax." },
    ]);
  }
  return { config: resolvePaths(parseConfig(document, absolute), path.dirname(absolute)), source: absolute };
}

/** Validates a configuration document; throws a ConfigError listing every problem with its fix. */
export function parseConfig(document: unknown, source: string): Config {
  const reserved = reservedKeys(document, "");
  if (reserved.length > 0) throw new ConfigError(source, reserved);
  const result = ConfigSchema.safeParse(document, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(source, result.error.issues.flatMap(describeIssue));
}

function describeIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
  const field = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const full = field ? `${field}.${key}` : key;
      const fileKey = Object.hasOwn(INLINE_SECRET_KEYS, full) ? INLINE_SECRET_KEYS[full] : undefined;
      return fileKey
        ? {
            field: full,
            problem: "secrets are never given inline",
            fix: `Write the secret to a file and set "${fileKey}" to its path.`,
          }
        : { field: full, problem: "unknown key", fix: "Remove it or check its spelling (see README, Configuration)." };
    });
  }
  const example = FIELD_EXAMPLES[field];
  const fix = example === undefined ? "See README, Configuration." : `Example: "${field}": ${example}.`;
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return [{ field, problem: `required ${issue.expected} is missing`, fix }];
  }
  return [{ field, problem: issue.message.replace(/^Invalid input: /, ""), fix }];
}

/** Keys JavaScript gives a meaning to on every object: never config, and a prototype-pollution attempt in a record. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

function reservedKeys(value: unknown, at: string): ConfigProblem[] {
  if (value === null || typeof value !== "object") return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => reservedKeys(item, `${at}[${i}]`));
  return Object.keys(value).flatMap((key) => {
    const field = at ? `${at}.${key}` : key;
    if (RESERVED_KEYS.has(key)) {
      return [{ field, problem: `"${key}" is a reserved JavaScript name, never a config key`, fix: "Remove it; nothing in the configuration is named so." }];
    }
    return reservedKeys((value as Record<string, unknown>)[key], field);
  });
}

function resolvePaths(config: Config, base: string): Config {
  const at = (p: string | undefined): string | undefined => (p === undefined ? undefined : path.resolve(base, p));
  return {
    ...config,
    memoryDir: path.resolve(base, config.memoryDir),
    workspaceDir: at(config.workspaceDir),
    discordTokenFile: at(config.discordTokenFile),
    anthropicApiKeyFile: at(config.anthropicApiKeyFile),
    openaiApiKeyFile: at(config.openaiApiKeyFile),
    githubApp: config.githubApp && { ...config.githubApp, privateKeyFile: path.resolve(base, config.githubApp.privateKeyFile) },
    github: {
      ...config.github,
      tokenFile: at(config.github.tokenFile),
      seeds: { ...config.github.seeds, dir: path.resolve(base, config.github.seeds.dir) },
    },
    coding: {
      ...config.coding,
      workDir: path.resolve(base, config.coding.workDir),
      repos: Object.fromEntries(Object.entries(config.coding.repos).map(([name, dir]) => [name, path.resolve(base, dir)])),
    },
  };
}
