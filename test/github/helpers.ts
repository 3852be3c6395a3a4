// Shared set-up for the GitHub tests: an App key pair, a fake GitHub, a quiet logger, and the
// agent's real client connected to the fake.
import { generateKeyPairSync } from "node:crypto";
import { connectGithub, type GithubConnection, type GithubCredentials } from "../../agent/github/auth.ts";
import { createLogger, ScrubbingSink, type Logger } from "../../agent/log.ts";
import { startGithubFake, type GithubFake, type GithubFakeOptions } from "../fakes/github/server.ts";

export const APP_ID = 424242;
export const INSTALLATION_ID = 777;

let keys: { privateKey: string; publicKey: string } | undefined;
/** One RSA key pair per test process (generating one takes ~100 ms). */
export function appKeys(): { privateKey: string; publicKey: string } {
  keys ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return keys;
}

export function quietLog(): Logger {
  return createLogger({ level: "silent", sink: new ScrubbingSink(), name: "test" });
}

export async function appFake(options: Omit<GithubFakeOptions, "app"> = {}): Promise<GithubFake> {
  return startGithubFake({ ...options, app: { id: APP_ID, publicKey: appKeys().publicKey, installationId: INSTALLATION_ID } });
}

export function appCredentials(privateKey = appKeys().privateKey): GithubCredentials {
  return { kind: "app", appId: APP_ID, installationId: INSTALLATION_ID, privateKey };
}

/** The agent's client against the fake, with retry waits shrunk to milliseconds. */
export function connect(
  fake: GithubFake,
  credentials: GithubCredentials = appCredentials(),
  extra: Partial<Parameters<typeof connectGithub>[1]> = {},
): GithubConnection {
  return connectGithub(credentials, { baseUrl: fake.baseUrl, log: quietLog(), retryAfterBaseValue: 1, ...extra });
}
