import { App } from "@octokit/app";
import { RequestError } from "@octokit/request-error";
import type { EndpointDefaults, RequestInterface } from "@octokit/types";
import type { Logger } from "../log.ts";
import { clientDefaults, GithubOctokit, type ClientOptions, type GithubClient } from "./client.ts";
import { GITHUB_DEFAULTS, READ_ONLY_PERMISSIONS } from "./defaults.ts";

/** How the agent talks to GitHub: as an App installation, with a token (PAT), or anonymously. */
export type GithubCredentials =
  | { readonly kind: "app"; readonly appId: number; readonly installationId: number; readonly privateKey: string }
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "anonymous" };

/** An installation token as GitHub issued it. */
export interface InstallationToken {
  readonly token: string;
  /** ISO time from GitHub's `expires_at`. */
  readonly expiresAt: string;
  readonly permissions: Readonly<Record<string, string>>;
}

/** GitHub refused our credentials; the message names the setting to check. */
export class GithubAuthError extends Error {
  override readonly name = "GithubAuthError";
  readonly status: number | undefined;
  constructor(message: string, status: number | undefined, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

export interface InstallationTokensOptions {
  /** The App: its own client signs a JWT (RS256, via @octokit/auth-app) for each token request. */
  readonly app: App;
  readonly installationId: number;
  /** @default READ_ONLY_PERMISSIONS */
  readonly permissions?: Readonly<Record<string, string>>;
  /** Renew this long before `expires_at`. @default GITHUB_DEFAULTS.tokenRefreshBeforeMs */
  readonly refreshBeforeMs?: number;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
  readonly log: Logger;
  /** Told every new token, so the log sink can scrub it by value. */
  readonly onToken?: (token: string) => void;
}

/**
 * Installation tokens minted in process and renewed before they expire, without a restart.
 * @octokit/auth-app keeps a token for 59 minutes whatever `expires_at` says (../shared/NOTES.md),
 * so the agent keeps its own: the token GitHub gave, held until `expires_at - refreshBeforeMs`
 * by the clock, and dropped at once when GitHub answers 401 to it (revoked, or shorter-lived than
 * it said). One token request at a time; concurrent callers share it.
 */
export class InstallationTokens {
  readonly #options: InstallationTokensOptions;
  readonly #now: () => number;
  #current: (InstallationToken & { readonly expiresAtMs: number }) | undefined;
  #pending: Promise<InstallationToken> | undefined;
  /** Tokens minted since start (for status and tests). */
  minted = 0;

  constructor(options: InstallationTokensOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** A token valid for at least `refreshBeforeMs` more. */
  async get(): Promise<InstallationToken> {
    const current = this.#current;
    const margin = this.#options.refreshBeforeMs ?? GITHUB_DEFAULTS.tokenRefreshBeforeMs;
    if (current && current.expiresAtMs - margin > this.#now()) return current;
    return this.#mint();
  }

  /** GitHub refused `stale`: a fresh token, unless another caller already replaced it. */
  async renew(stale: string): Promise<InstallationToken> {
    if (this.#current && this.#current.token !== stale) return this.#current;
    this.#current = undefined;
    return this.#mint();
  }

  #mint(): Promise<InstallationToken> {
    this.#pending ??= this.#request().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  async #request(): Promise<InstallationToken> {
    const { app, installationId, log } = this.#options;
    const permissions = this.#options.permissions ?? READ_ONLY_PERMISSIONS;
    let data: { token: string; expires_at: string; permissions?: Record<string, string | undefined> };
    let serverDate: string | undefined;
    const askedAt = this.#now();
    try {
      ({ data, headers: { date: serverDate } } = await app.octokit.request("POST /app/installations/{installation_id}/access_tokens", {
        installation_id: installationId,
        permissions,
      }));
    } catch (error) {
      throw explainAuthFailure(error, installationId);
    }
    // The lifetime GitHub gave (expires_at minus its own Date), counted on our clock: a skewed
    // host clock neither renews every request nor holds a dead token.
    const lifetime = Date.parse(data.expires_at) - (serverDate ? Date.parse(serverDate) : askedAt);
    const expiresAtMs = askedAt + (Number.isFinite(lifetime) ? lifetime : 0);
    const granted = Object.fromEntries(Object.entries(data.permissions ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined));
    this.#current = { token: data.token, expiresAt: data.expires_at, permissions: granted, expiresAtMs };
    this.minted++;
    this.#options.onToken?.(data.token);
    // The token itself is never logged (and the log sink scrubs it anyway once registered).
    log.info({ component: "github", installationId, expiresAt: data.expires_at, permissions: granted }, "github: installation token minted");
    return this.#current;
  }
}

/** Says which setting to check, by status (never by message text). */
function explainAuthFailure(error: unknown, installationId: number): Error {
  if (!(error instanceof RequestError)) {
    return new GithubAuthError(
      `could not sign the GitHub App JWT (${error instanceof Error ? error.message : String(error)}): check that githubApp.privateKeyFile holds the App's PEM private key`,
      undefined,
      { cause: error },
    );
  }
  if (error.status === 401) {
    return new GithubAuthError(
      "GitHub refused the App's JWT (401): check githubApp.appId, and that githubApp.privateKeyFile holds a current private key of that App",
      401,
      { cause: error },
    );
  }
  if (error.status === 404) {
    return new GithubAuthError(`GitHub knows no installation ${installationId} of this App (404): check githubApp.installationId`, 404, { cause: error });
  }
  if (error.status === 422) {
    return new GithubAuthError(
      "GitHub refused the read-only token request (422): the App must be granted at least read access to metadata, contents, issues, pull requests and checks",
      422,
      { cause: error },
    );
  }
  return error;
}

type AuthHook = (request: RequestInterface, route: string | EndpointDefaults, parameters?: Record<string, unknown>) => Promise<unknown>;
type Endpoint = ReturnType<RequestInterface["endpoint"]["merge"]> & { url: string };

/**
 * An octokit `authStrategy` on top of `InstallationTokens`: every request carries the current
 * token; a 401 renews it once and repeats the request. `octokit.auth()` returns the token.
 */
function installationAuthStrategy(options: { tokens: InstallationTokens }): (() => Promise<{ type: "token"; tokenType: "installation"; token: string; expiresAt: string }>) & {
  hook: AuthHook;
} {
  const { tokens } = options;
  const auth = async (): Promise<{ type: "token"; tokenType: "installation"; token: string; expiresAt: string }> => {
    const { token, expiresAt } = await tokens.get();
    return { type: "token", tokenType: "installation", token, expiresAt };
  };
  const hook: AuthHook = async (request, route, parameters) => {
    // merge() always fills `url` (from the route); its type leaves it optional.
    const endpoint = request.endpoint.merge(route as string, parameters) as Endpoint;
    const { token } = await tokens.get();
    endpoint.headers.authorization = `token ${token}`;
    try {
      return await request(endpoint);
    } catch (error) {
      if (!(error instanceof RequestError) || error.status !== 401) throw error;
      const fresh = await tokens.renew(token);
      endpoint.headers.authorization = `token ${fresh.token}`;
      return request(endpoint);
    }
  };
  return Object.assign(auth, { hook });
}

export interface GithubConnection {
  readonly client: GithubClient;
  readonly credentials: GithubCredentials["kind"];
  /** A token for scripts and git (`clawdinator github token`, repo seeds); undefined when anonymous. */
  token(): Promise<string | undefined>;
  /** One line for `status`. */
  describe(): string;
}

/**
 * The client for the configured credentials. App: tokens minted in process (read-only
 * permissions) and renewed before expiry; token: a PAT as is; anonymous: public data only, 60
 * requests an hour. Nothing is requested until the first call (a wrong key shows there).
 */
export function connectGithub(
  credentials: GithubCredentials,
  options: ClientOptions & { readonly now?: () => number; readonly tokenRefreshBeforeMs?: number; readonly onToken?: (token: string) => void },
): GithubConnection {
  const defaults = clientDefaults(options);
  const where = options.baseUrl;
  switch (credentials.kind) {
    case "app": {
      const app = new App({
        appId: credentials.appId,
        privateKey: credentials.privateKey,
        Octokit: GithubOctokit.defaults({ ...defaults, etagCache: { entries: 0 } }),
        log: defaults?.log,
      });
      const tokens = new InstallationTokens({
        app,
        installationId: credentials.installationId,
        now: options.now,
        refreshBeforeMs: options.tokenRefreshBeforeMs,
        log: options.log,
        onToken: options.onToken,
      });
      const client = new GithubOctokit({ ...defaults, authStrategy: installationAuthStrategy, auth: { tokens } });
      return {
        client,
        credentials: "app",
        token: async () => (await tokens.get()).token,
        describe: () =>
          `App ${credentials.appId}, installation ${credentials.installationId} at ${where}; read-only tokens, ${tokens.minted} minted since start`,
      };
    }
    case "token":
      return {
        client: new GithubOctokit({ ...defaults, auth: credentials.token }),
        credentials: "token",
        token: async () => credentials.token,
        describe: () => `token (PAT) at ${where}`,
      };
    case "anonymous":
      return {
        client: new GithubOctokit(defaults),
        credentials: "anonymous",
        token: async () => undefined,
        describe: () => `unauthenticated at ${where} (public data, 60 requests an hour)`,
      };
  }
}
