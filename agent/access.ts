import type { AccessConfig, DiscordConfig, RateLimitsConfig } from "./config/schema.ts";
import type { Author, IncomingMessage } from "./transport/types.ts";

/**
 * Every decision about who gets an answer lives here: where CLAWDINATOR listens (guild and
 * channel allowlist, mention gate, DMs), who it answers (maintainers by user or role id), and how
 * often (per-user and per-channel token buckets). The router asks before it runs a command or
 * calls the model, so a denied message costs nothing.
 */

/** The bot does not listen here: DMs off, a guild or channel not on the allowlist, no mention. */
export type PlaceReason = "dm-disabled" | "guild-not-allowed" | "channel-not-allowed" | "mention-required";

/** Why a message is dropped without a word. */
export type IgnoreReason = PlaceReason | "not-maintainer" | "rate-limited";

/** Why a message gets a short refusal instead of an answer. */
export type RefuseReason = "not-maintainer" | "rate-limited" | "dm-disabled" | "guild-not-allowed" | "channel-not-allowed";

export type AccessDecision =
  | { readonly action: "answer" }
  | { readonly action: "ignore"; readonly reason: IgnoreReason }
  | { readonly action: "refuse"; readonly reason: RefuseReason; readonly text: string };

export interface AccessOptions {
  readonly discord: DiscordConfig;
  readonly access: AccessConfig;
  readonly rateLimits: RateLimitsConfig;
  /** Milliseconds clock; injectable for tests. */
  readonly now?: () => number;
}

/** Said on a slash command where the bot does not listen, since silence shows as an error there. */
const NOT_HERE = "I do not take commands in this channel.";
const DMS_OFF = "I do not take direct messages.";
/** Said to a non-maintainer's slash command when `refusal` is null: Discord needs some answer. */
const NOT_YOURS = "Maintainers only.";

/** Empty buckets are forgotten once full again; this bounds memory to recently active keys. */
const PRUNE_EVERY = 1000;

export class AccessControl {
  private readonly options: AccessOptions;
  private readonly now: () => number;
  private readonly maintainerUsers: ReadonlySet<string>;
  private readonly maintainerRoles: ReadonlySet<string>;
  private readonly users: TokenBuckets;
  private readonly channels: TokenBuckets;
  /** When each non-maintainer was last refused, so each gets one refusal per cooldown. */
  private readonly refused = new Map<string, number>();

  constructor(options: AccessOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.maintainerUsers = new Set(options.access.maintainers.users);
    this.maintainerRoles = new Set(options.access.maintainers.roles);
    this.users = new TokenBuckets(options.rateLimits.perUser);
    this.channels = new TokenBuckets(options.rateLimits.perChannel);
  }

  /** A maintainer by user id, or by any of the roles they hold in the guild the message came from. */
  isMaintainer(author: Author): boolean {
    return this.maintainerUsers.has(author.id) || author.roleIds.some((role) => this.maintainerRoles.has(role));
  }

  /** Whether slash commands belong in this guild (it is on the allowlist). */
  isAllowedGuild(guildId: string): boolean {
    return Object.hasOwn(this.options.discord.guilds, guildId);
  }

  decide(message: IncomingMessage): AccessDecision {
    // The shell and internal events are the local operator and the agent itself.
    if (message.origin === "shell" || message.origin === "internal") return ANSWER;
    const where = this.placeDecision(message);
    if (where) return this.denied(where, message);
    if (!this.isMaintainer(message.author)) return this.refuseNonMaintainer(message);
    return this.rateLimit(message);
  }

  /** Guild, channel, DM and mention rules: whether the bot listens here at all. */
  private placeDecision(message: IncomingMessage): PlaceReason | undefined {
    if (message.origin === "dm") return this.options.discord.dm.enabled ? undefined : "dm-disabled";
    const guild = message.guildId === undefined ? undefined : this.options.discord.guilds[message.guildId];
    if (!guild) return "guild-not-allowed";
    const rule = (message.channelKeys ?? []).map((key) => guild.channels[key]).find((r) => r !== undefined);
    if (!rule?.allow) return "channel-not-allowed";
    const requireMention = rule.requireMention ?? guild.requireMention;
    if (requireMention && !message.addressed) return "mention-required";
    return undefined;
  }

  private denied(reason: PlaceReason, message: IncomingMessage): AccessDecision {
    if (!message.expectsResponse || reason === "mention-required") return { action: "ignore", reason };
    return { action: "refuse", reason, text: reason === "dm-disabled" ? DMS_OFF : NOT_HERE };
  }

  private refuseNonMaintainer(message: IncomingMessage): AccessDecision {
    const { refusal, refusalCooldownSeconds } = this.options.access;
    if (message.expectsResponse) return { action: "refuse", reason: "not-maintainer", text: refusal ?? NOT_YOURS };
    if (refusal === null || !message.addressed) return { action: "ignore", reason: "not-maintainer" };
    const now = this.now();
    const last = this.refused.get(message.author.id);
    if (last !== undefined && now - last < refusalCooldownSeconds * 1000) return { action: "ignore", reason: "not-maintainer" };
    this.refused.set(message.author.id, now);
    if (this.refused.size > PRUNE_EVERY) {
      for (const [user, at] of this.refused) if (now - at >= refusalCooldownSeconds * 1000) this.refused.delete(user);
    }
    return { action: "refuse", reason: "not-maintainer", text: refusal };
  }

  private rateLimit(message: IncomingMessage): AccessDecision {
    const now = this.now();
    const userKey = message.author.id;
    const channelKey = message.conversation;
    // Check both before taking from either, so a refused message costs no tokens.
    const user = this.users.peek(userKey, now);
    const channel = this.channels.peek(channelKey, now);
    if (user.tokens >= 1 && channel.tokens >= 1) {
      this.users.take(userKey, now);
      this.channels.take(channelKey, now);
      return ANSWER;
    }
    const limited = user.tokens < 1 ? this.users : this.channels;
    const key = user.tokens < 1 ? userKey : channelKey;
    const { notice } = this.options.rateLimits;
    // One notice per empty spell of a bucket: the next ones are silent, or the notices become the spam.
    if (notice === null || !limited.markNotified(key, now)) {
      return message.expectsResponse && notice !== null
        ? { action: "refuse", reason: "rate-limited", text: notice }
        : { action: "ignore", reason: "rate-limited" };
    }
    return { action: "refuse", reason: "rate-limited", text: notice };
  }
}

const ANSWER: AccessDecision = { action: "answer" };

interface Bucket {
  tokens: number;
  updatedAt: number;
  notified: boolean;
}

/** Classic token buckets keyed by user or channel; full buckets are dropped to bound memory. */
export class TokenBuckets {
  private readonly capacity: number;
  private readonly perMs: number;
  private readonly buckets = new Map<string, Bucket>();
  private operations = 0;

  constructor(rate: { readonly burst: number; readonly perMinute: number }) {
    this.capacity = rate.burst;
    this.perMs = rate.perMinute / 60_000;
  }

  /** The bucket refilled up to `now` (a full one if the key is new). */
  peek(key: string, now: number): Bucket {
    const bucket = this.buckets.get(key);
    if (!bucket) return { tokens: this.capacity, updatedAt: now, notified: false };
    const tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.updatedAt) * this.perMs);
    if (tokens >= 1) bucket.notified = false;
    bucket.tokens = tokens;
    bucket.updatedAt = now;
    return bucket;
  }

  take(key: string, now: number): void {
    const bucket = this.peek(key, now);
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    if (++this.operations % PRUNE_EVERY === 0) this.prune(now);
  }

  /** Marks the empty bucket as told; false when it already was. */
  markNotified(key: string, now: number): boolean {
    const bucket = this.peek(key, now);
    if (bucket.notified) return false;
    bucket.notified = true;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.perMs >= this.capacity) this.buckets.delete(key);
    }
  }
}
