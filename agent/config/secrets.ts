import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { ConfigError, errorCode } from "./errors.ts";
import type { Config } from "./schema.ts";

/** The secret values the agent runs with. Never logged: see `log.ts`, which scrubs every one. */
export interface Secrets {
  readonly discordToken?: string;
  readonly anthropicApiKey?: string;
  readonly openaiApiKey?: string;
  readonly githubAppPrivateKey?: string;
  /** A GitHub personal access token (local runs; an instance uses the App). */
  readonly githubToken?: string;
}

/** Each secret: its file key in the config, and the environment variable a local run may use. */
export const SECRET_SOURCES = {
  discordToken: { fileKey: "discordTokenFile", envVar: "CLAWDINATOR_DISCORD_TOKEN" },
  anthropicApiKey: { fileKey: "anthropicApiKeyFile", envVar: "ANTHROPIC_API_KEY" },
  openaiApiKey: { fileKey: "openaiApiKeyFile", envVar: "OPENAI_API_KEY" },
  githubAppPrivateKey: { fileKey: "githubApp.privateKeyFile", envVar: "CLAWDINATOR_GITHUB_APP_PRIVATE_KEY" },
  githubToken: { fileKey: "github.tokenFile", envVar: "CLAWDINATOR_GITHUB_TOKEN" },
} as const satisfies Record<keyof Secrets, { fileKey: string; envVar: string }>;

export type SecretName = keyof typeof SECRET_SOURCES;

/** A secret file others on the machine can read: the agent starts, and says so in its log. */
export interface SecretFileWarning {
  readonly field: string;
  readonly file: string;
  /** Its permission bits, e.g. "0644". */
  readonly mode: string;
  readonly message: string;
}

/**
 * Reads every configured secret file. A file key that is set but unreadable, empty, or not a
 * regular file (a FIFO would hang start-up, a device would read forever) is an error naming the key
 * and the file; a file that its group or everyone may read is reported to `warn`. A secret with no
 * file falls back to its environment variable when `secretsFromEnv` allows it. A secret that is
 * simply absent leaves its integration offline.
 */
export async function loadSecrets(
  config: Config,
  env: NodeJS.ProcessEnv,
  source: string,
  warn: (warning: SecretFileWarning) => void = () => {},
): Promise<Secrets> {
  const files: Record<SecretName, string | undefined> = {
    discordToken: config.discordTokenFile,
    anthropicApiKey: config.anthropicApiKeyFile,
    openaiApiKey: config.openaiApiKeyFile,
    githubAppPrivateKey: config.githubApp?.privateKeyFile,
    githubToken: config.github.tokenFile,
  };
  const secrets: Partial<Record<SecretName, string>> = {};
  for (const name of Object.keys(SECRET_SOURCES) as SecretName[]) {
    const { fileKey, envVar } = SECRET_SOURCES[name];
    const file = files[name];
    if (file !== undefined) {
      secrets[name] = await readSecretFile(file, fileKey, source, warn);
    } else if (config.secretsFromEnv && env[envVar]?.trim()) {
      secrets[name] = env[envVar].trim();
    }
  }
  return secrets;
}

/** Largest secret file read (a PEM key is a few KB). */
const MAX_SECRET_BYTES = 64 * 1024;

async function readSecretFile(file: string, fileKey: string, source: string, warn: (warning: SecretFileWarning) => void): Promise<string> {
  const refuse = (problem: string, fix: string): ConfigError => new ConfigError(source, [{ field: fileKey, problem, fix }]);
  let value: string;
  // Opened without blocking, then checked on the open descriptor: a FIFO would block the open (and
  // the read) forever, and a path swapped between a check and the open cannot slip past fstat.
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw refuse(`cannot read secret file ${file} (${errorCode(error)})`, "Create the file (mode 0400), or remove the key to leave that integration offline.");
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      const kind = stats.isFIFO() ? "a FIFO" : stats.isCharacterDevice() || stats.isBlockDevice() ? "a device" : stats.isDirectory() ? "a directory" : "not a regular file";
      throw refuse(`secret file ${file} is ${kind}`, "Point it at a regular file holding the secret (mode 0400).");
    }
    if (stats.size > MAX_SECRET_BYTES) throw refuse(`secret file ${file} is ${stats.size} bytes`, `A secret is at most ${MAX_SECRET_BYTES} bytes; check the path.`);
    const mode = stats.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      const octal = `0${mode.toString(8).padStart(3, "0")}`;
      warn({
        field: fileKey,
        file,
        mode: octal,
        message: `secret file ${file} (${fileKey}) is group- or world-readable (mode ${octal}); run chmod 0400 ${file}`,
      });
    }
    value = (await handle.readFile({ encoding: "utf8" })).trim();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw refuse(`cannot read secret file ${file} (${errorCode(error)})`, "Create the file (mode 0400), or remove the key to leave that integration offline.");
  } finally {
    await handle.close();
  }
  if (value === "") {
    throw new ConfigError(source, [
      { field: fileKey, problem: `secret file ${file} is empty`, fix: "Write the secret into the file." },
    ]);
  }
  return value;
}

/** Where an operator sets a secret, for "not configured" answers. */
export function howToConfigure(name: SecretName): string {
  const { fileKey, envVar } = SECRET_SOURCES[name];
  return `set "${fileKey}" in the config (or ${envVar} for a local run)`;
}
