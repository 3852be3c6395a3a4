import { Octokit as OctokitCore, type OctokitOptions } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { RequestError } from "@octokit/request-error";
import type { Logger } from "../log.ts";
import { GITHUB_DEFAULTS } from "./defaults.ts";

/**
 * The one composed GitHub client (probot's habit: plugins and defaults in one file, everything
 * else takes the client): retry for 5xx and network errors, throttling for the primary and
 * secondary rate limits (`retry-after`, `x-ratelimit-reset`), pagination through the library,
 * and conditional requests with ETags for the read tools (a 304 costs no rate limit; the cached
 * body is reused). The monitor makes its own conditional requests (its ETags live in the memory
 * store, see monitor.ts) through `conditionalGet` below.
 */
export const GithubOctokit = OctokitCore.plugin(paginateRest, retry, throttling, etagCache);
export type GithubClient = InstanceType<typeof GithubOctokit>;

export interface ClientOptions {
  /** `endpoints.github`: api.github.com, or `https://HOST/api/v3` for GitHub Enterprise Server. */
  readonly baseUrl: string;
  readonly log: Logger;
  /** @default GITHUB_DEFAULTS.retries */
  readonly retries?: number;
  /** @default GITHUB_DEFAULTS.maxRateLimitWaitSeconds */
  readonly maxRateLimitWaitSeconds?: number;
  /**
   * Milliseconds per second of `retry-after` and per retry step. Tests and benches shrink it so a
   * "wait 1 s" costs a millisecond; the agent never sets it. @default 1000
   */
  readonly retryAfterBaseValue?: number;
  /** Responses remembered for conditional re-requests; 0 turns the cache off. @default GITHUB_DEFAULTS.etagCacheEntries */
  readonly etagCacheEntries?: number;
}

/**
 * The defaults every client of this agent is made with (the App's own JWT client too): base URL,
 * user agent, rate-limit handlers that log method and URL and retry within bounds, logs to pino.
 */
export function clientDefaults(options: ClientOptions): ConstructorParameters<typeof GithubOctokit>[0] {
  const log = options.log;
  const retries = options.retries ?? GITHUB_DEFAULTS.retries;
  const maxWait = options.maxRateLimitWaitSeconds ?? GITHUB_DEFAULTS.maxRateLimitWaitSeconds;
  const base = options.retryAfterBaseValue ?? 1000;
  return {
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    userAgent: "clawdinator",
    log: {
      debug: (message: string) => log.debug({ component: "octokit" }, message),
      info: (message: string) => log.debug({ component: "octokit" }, message),
      warn: (message: string) => log.warn({ component: "octokit" }, message),
      error: (message: string) => log.error({ component: "octokit" }, message),
    },
    retry: { retries, retryAfterBaseValue: base },
    throttle: {
      retryAfterBaseValue: base,
      fallbackSecondaryRateRetryAfter: 60,
      onRateLimit: (retryAfter, request, _octokit, retryCount) => {
        const retrying = retryCount < retries && retryAfter <= maxWait;
        log.warn({ method: request.method, url: request.url, retryAfter, retryCount, retrying }, "github: primary rate limit reached");
        return retrying;
      },
      onSecondaryRateLimit: (retryAfter, request, _octokit, retryCount) => {
        const retrying = retryCount < retries && retryAfter <= maxWait;
        log.warn({ method: request.method, url: request.url, retryAfter, retryCount, retrying }, "github: secondary rate limit");
        return retrying;
      },
    },
    etagCache: { entries: options.etagCacheEntries ?? GITHUB_DEFAULTS.etagCacheEntries },
  };
}

// ---- conditional requests ----

interface CachedResponse {
  readonly etag: string;
  readonly response: unknown;
}

/**
 * An octokit plugin: a GET the caller did not make conditional itself is sent with the ETag of
 * the last answer to the same URL; a 304 (octokit throws it as a RequestError) returns that
 * answer again. Bounded LRU, in process.
 */
function etagCache(octokit: OctokitCore, options: OctokitOptions): Record<string, never> {
  const setting: unknown = options.etagCache;
  const entries = typeof setting === "object" && setting !== null && "entries" in setting && typeof setting.entries === "number" ? setting.entries : 0;
  if (entries <= 0) return {};
  const cache = new Map<string, CachedResponse>();
  octokit.hook.wrap("request", async (request, endpoint) => {
    const headers = endpoint.headers as Record<string, string | number | undefined>;
    if (endpoint.method !== "GET" || headers["if-none-match"] !== undefined) return request(endpoint);
    const key = octokit.request.endpoint(endpoint).url;
    const cached = cache.get(key);
    if (cached) headers["if-none-match"] = cached.etag;
    try {
      const response = await request(endpoint);
      const etag = response.headers.etag;
      if (etag) {
        cache.delete(key);
        cache.set(key, { etag, response });
        if (cache.size > entries) cache.delete(cache.keys().next().value ?? "");
      }
      return response;
    } catch (error) {
      if (cached && error instanceof RequestError && error.status === 304) {
        cache.delete(key);
        cache.set(key, cached);
        return cached.response as Awaited<ReturnType<typeof request>>;
      }
      throw error;
    }
  });
  return {};
}

/** The answer of a conditional GET: changed with its data and ETag, or not modified. */
export type Conditional<T> = { readonly changed: true; readonly data: T; readonly etag: string | undefined } | { readonly changed: false };

/**
 * One GET with `If-None-Match: etag` (when known). A 304, which octokit throws as a RequestError,
 * becomes `{changed: false}`: the caller reuses what it kept from the earlier answer.
 */
export async function conditionalGet<T>(
  client: GithubClient,
  route: string,
  parameters: Record<string, unknown>,
  etag: string | undefined,
): Promise<Conditional<T>> {
  try {
    const response = await client.request(route, {
      ...parameters,
      headers: etag === undefined ? {} : { "if-none-match": etag },
    });
    return { changed: true, data: response.data as T, etag: response.headers.etag };
  } catch (error) {
    if (error instanceof RequestError && error.status === 304) return { changed: false };
    throw error;
  }
}

/**
 * Every page of a list, the first one conditional: `{changed: false}` when the first page is
 * unchanged (nothing else is requested), else every item through the library's pagination
 * (`Link: rel="next"`), with the first page's ETag.
 */
export async function conditionalList<T>(
  client: GithubClient,
  route: string,
  parameters: Record<string, unknown>,
  etag: string | undefined,
  map: (response: { data: unknown }) => readonly T[] = (response) => response.data as T[],
): Promise<Conditional<T[]>> {
  const items: T[] = [];
  let firstEtag: string | undefined;
  let first = true;
  try {
    const pages = client.paginate.iterator(route, {
      ...parameters,
      headers: etag === undefined ? {} : { "if-none-match": etag },
    });
    for await (const page of pages) {
      if (first) firstEtag = page.headers.etag;
      first = false;
      items.push(...map(page));
    }
  } catch (error) {
    if (first && error instanceof RequestError && error.status === 304) return { changed: false };
    throw error;
  }
  return { changed: true, data: items, etag: firstEtag };
}
