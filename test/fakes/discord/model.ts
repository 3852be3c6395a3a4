/**
 * The fake's world: guilds, channels, roles, members, and the wire objects (Discord API v10 JSON)
 * built from them. Only the fields discord.js 14 reads are filled in; every shape follows the
 * public API documentation, not anything in the product.
 */

const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A new snowflake: the timestamp in the top bits, so ids sort by creation like Discord's. */
export function snowflake(now = Date.now()): string {
  increment = (increment + 1n) % 4096n;
  return (((BigInt(now) - DISCORD_EPOCH) << 22n) | increment).toString();
}

/** Channel types used here (Discord's numbers). */
export const ChannelType = { GuildText: 0, DM: 1, PublicThread: 11 } as const;

export interface FakeUser {
  readonly id: string;
  readonly username: string;
  readonly bot?: boolean;
}

export interface FakeChannel {
  readonly id: string;
  readonly name: string;
  /** Discord channel type; text channel unless set. */
  readonly type?: number;
  /** For a thread: the channel it hangs off. */
  readonly parentId?: string;
}

export interface FakeRole {
  readonly id: string;
  readonly name: string;
}

export interface FakeMember {
  readonly user: FakeUser;
  readonly roles: readonly string[];
}

export interface FakeGuild {
  readonly id: string;
  readonly name: string;
  readonly channels: readonly FakeChannel[];
  readonly roles?: readonly FakeRole[];
  readonly members?: readonly FakeMember[];
}

export type Json = Record<string, unknown>;

export function userJson(user: FakeUser): Json {
  return {
    id: user.id,
    username: user.username,
    global_name: user.username,
    discriminator: "0",
    avatar: null,
    bot: user.bot ?? false,
    public_flags: 0,
  };
}

export function memberJson(member: FakeMember, withUser: boolean): Json {
  return {
    ...(withUser ? { user: userJson(member.user) } : {}),
    roles: [...member.roles],
    nick: null,
    avatar: null,
    joined_at: "2026-01-01T00:00:00.000Z",
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    permissions: "0",
  };
}

export function channelJson(channel: FakeChannel, guildId: string | undefined): Json {
  const type = channel.type ?? ChannelType.GuildText;
  const base: Json = { id: channel.id, type, name: channel.name, guild_id: guildId, position: 0, permission_overwrites: [] };
  if (type === ChannelType.PublicThread) {
    return {
      ...base,
      parent_id: channel.parentId,
      owner_id: "0",
      thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: "2026-01-01T00:00:00.000Z", locked: false },
      message_count: 0,
      member_count: 1,
    };
  }
  return { ...base, parent_id: null, topic: null, nsfw: false, last_message_id: null, rate_limit_per_user: 0 };
}

/**
 * The role Discord creates for a bot when it joins a guild (managed, tagged with the bot's id): what
 * the client's autocomplete often inserts when someone types @ and the bot's name.
 */
export function botRoleId(guild: Pick<FakeGuild, "id">): string {
  return (BigInt(guild.id) + 7777n).toString();
}

export function guildCreateJson(guild: FakeGuild, bot: FakeUser): Json {
  const managed = { id: botRoleId(guild), name: bot.username, managed: true, tags: { bot_id: bot.id } };
  const roles = [{ id: guild.id, name: "@everyone" }, ...(guild.roles ?? []), managed].map((role, position) => ({
    id: role.id,
    name: role.name,
    color: 0,
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions: "0",
    managed: "managed" in role ? role.managed : false,
    mentionable: false,
    flags: 0,
    ...("tags" in role ? { tags: role.tags } : {}),
  }));
  const members = [{ user: bot, roles: [managed.id] }, ...(guild.members ?? [])].map((m) => memberJson(m, true));
  const isThread = (c: FakeChannel): boolean => c.type === ChannelType.PublicThread;
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    owner_id: guild.members?.[0]?.user.id ?? bot.id,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles,
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    preferred_locale: "en-US",
    public_updates_channel_id: null,
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
    joined_at: "2026-01-01T00:00:00.000Z",
    large: false,
    unavailable: false,
    member_count: members.length,
    voice_states: [],
    members,
    channels: guild.channels.filter((c) => !isThread(c)).map((c) => channelJson(c, guild.id)),
    threads: guild.channels.filter(isThread).map((c) => channelJson(c, guild.id)),
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}
