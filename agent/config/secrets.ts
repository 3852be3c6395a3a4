import { readFile } from "node:fs/promises";
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

/**
 * Reads every configured secret file. A file key that is set but unreadable or empty is an error
 * naming the key and the file; a secret with no file falls back to its environment variable when
 * `secretsFromEnv` allows it. A secret that is simply absent leaves its integration offline.
 */
export async function loadSecrets(config: Config, env: NodeJS.ProcessEnv, source: string): Promise<Secrets> {
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
      secrets[name] = await readSecretFile(file, fileKey, source);
    } else if (config.secretsFromEnv && env[envVar]?.trim()) {
      secrets[name] = env[envVar].trim();
    }
  }
  return secrets;
}

async function readSecretFile(file: string, fileKey: string, source: string): Promise<string> {
  let value: string;
  try {
    value = (await readFile(file, "utf8")).trim();
  } catch (error) {
    throw new ConfigError(source, [
      {
        field: fileKey,
        problem: `cannot read secret file ${file} (${errorCode(error)})`,
        fix: "Create the file (mode 0400), or remove the key to leave that integration offline.",
      },
    ]);
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
