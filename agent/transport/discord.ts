import {
  ApplicationCommandOptionType,
  ButtonStyle,
  ComponentType,
  Client,
  DiscordAPIError,
  DiscordjsError,
  DiscordjsErrorCodes,
  Events,
  GatewayIntentBits,
  GuildMember,
  MessageFlags,
  Partials,
  type APIActionRowComponent,
  type APIButtonComponent,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Message,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  type TextBasedChannel,
} from "discord.js";
import type { Command } from "../commands/types.ts";
import type { DiscordConfig } from "../config/schema.ts";
import { pickGif } from "../gifs.ts";
import type { Logger } from "../log.ts";
import type { ContextPiece } from "../origin.ts";
import type { IntegrationStatus } from "../status.ts";
import { splitForDiscord } from "./split.ts";
import type { AdmitHandler, ConfirmationRequest, IncomingMessage, MessageHandler, Reply, StopTyping, Transport } from "./types.ts";

export interface DiscordTransportOptions {
  readonly token: string;
  /** REST base without the version (`endpoints.discordApi`); the gateway URL comes from `GET /gateway/bot` there. */
  readonly apiBase: string;
  readonly discord: DiscordConfig;
  readonly instance: string;
  /** Registered as guild slash commands in every allowed guild on connect. */
  readonly commands: readonly Command[];
  readonly log: Logger;
  readonly random?: () => number;
  /** How long `start` waits for READY before giving up. */
  readonly loginTimeoutMs?: number;
  /**
   * discord.js holds REST calls to Discord's global limit for bots (50 per second) on its own side.
   * Raise it only if Discord raised yours; the benchmark lifts it to measure this code, not the limiter.
   */
  readonly globalRequestsPerSecond?: number;
  /** Typing is shown only when an answer takes longer than this, so quick answers cost one REST call. */
  readonly typingAfterMs?: number;
  /** A slash command not answered by then is deferred ("thinking…"); Discord drops it after 3 s. */
  readonly deferAfterMs?: number;
  /** Told on every gateway state change (the health report); `reason` is a short code. */
  readonly onStateChange?: (state: "connected" | "disconnected", reason: string | null) => void;
}

const DEFAULTS = {
  random: Math.random,
  loginTimeoutMs: 30_000,
  globalRequestsPerSecond: 50,
  typingAfterMs: 300,
  deferAfterMs: 2_000,
} as const satisfies Required<
  Pick<DiscordTransportOptions, "random" | "loginTimeoutMs" | "globalRequestsPerSecond" | "typingAfterMs" | "deferAfterMs">
>;

/** Discord keeps "is typing" for about 10 s; refresh a little before it lapses. */
const TYPING_REFRESH_MS = 8_000;
/** On stop, how long in-flight answers get to finish before the connection closes. */
const DRAIN_MS = 5_000;

export type DiscordTransportErrorCode = "token-rejected" | "login-failed" | "login-timeout";

/** Connecting to Discord failed; `code` says why, `cause` carries the library's error. */
export class DiscordTransportError extends Error {
  override readonly name = "DiscordTransportError";
  readonly code: DiscordTransportErrorCode;

  constructor(code: DiscordTransportErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

type Interaction = ChatInputCommandInteraction | ButtonInteraction;
type Source = Message | Interaction;

function isInteraction(source: Source): source is Interaction {
  return "deferReply" in source;
}

/** A confirmation button's custom id: `clawd:confirm:<id>` or `clawd:cancel:<id>`. */
const CONFIRM_BUTTON = /^clawd:(confirm|cancel):([0-9a-f]{8})$/;
/** Discord allows five action rows per message. */
const MAX_BUTTON_ROWS = 5;

/**
 * CLAWDINATOR on Discord, through discord.js. Turns gateway events (messages, slash commands) into
 * `IncomingMessage`s without judging them: who gets an answer is decided by the access module in
 * the router. Answers go back as replies split at Discord's limit; messages of one conversation are
 * handled in order, conversations in parallel.
 */
export class DiscordTransport implements Transport {
  readonly name = "discord";
  readonly finished: Promise<void>;
  private readonly options: DiscordTransportOptions;
  private readonly log: Logger;
  private client: Client | undefined;
  private onMessage: MessageHandler | undefined;
  private admit: AdmitHandler | undefined;
  /** The discord.js object each in-flight message came from, for replying. */
  private readonly sources = new Map<string, Source>();
  /** Deferrals in flight, by interaction id: an answer must wait for one, or it acknowledges twice. */
  private readonly deferrals = new Map<string, Promise<void>>();
  /** stop() was called: gateway closes from here on are ours, not failures. */
  private stopping = false;
  /** The tail of each conversation's queue. */
  private readonly queues = new Map<string, Promise<void>>();
  private markFinished!: () => void;
  private connected = false;
  private resumes = 0;
  private announced = false;

  constructor(options: DiscordTransportOptions) {
    this.options = options;
    this.log = options.log;
    this.finished = new Promise((resolve) => (this.markFinished = resolve));
  }

  async start(onMessage: MessageHandler, admit?: AdmitHandler): Promise<void> {
    this.onMessage = onMessage;
    this.admit = admit;
    const client = new Client({
      // DMs are received even when disabled, so the access module can log and drop them in one place.
      intents: [
        GatewayIntentBits.Guilds,
        GatewayIntentBits.GuildMessages,
        GatewayIntentBits.MessageContent,
        GatewayIntentBits.DirectMessages,
      ],
      partials: [Partials.Channel],
      rest: {
        api: this.options.apiBase,
        globalRequestsPerSecond: this.options.globalRequestsPerSecond ?? DEFAULTS.globalRequestsPerSecond,
      },
      // Never ping @everyone, roles or users because the model wrote a mention; the reply pings the asker.
      allowedMentions: { parse: [], repliedUser: true },
    });
    this.client = client;
    this.listen(client);
    await this.login(client);
    this.setConnected(true, null);
    this.log.info({ user: client.user?.tag, guilds: client.guilds.cache.map((g) => g.id) }, "discord: connected");
    await this.registerCommands(client);
    await this.announce(client);
  }

  async send(to: IncomingMessage, reply: Reply): Promise<void> {
    const source = this.sources.get(to.id);
    const chunks = splitForDiscord(reply.text);
    if (chunks.length === 0) return;
    // Files go with the last chunk, so they sit under the text that names them; so do the buttons.
    const files = (reply.files ?? []).map((file) => ({ attachment: Buffer.from(file.content, "utf8"), name: file.name }));
    const buttons = confirmationButtons(reply.confirmations ?? []);
    if (source && isInteraction(source)) return this.answerInteraction(source, chunks, reply.private === true, buttons, files);
    const channel = source?.channel ?? (await this.channelOf(to));
    if (!channel.isSendable()) throw new Error(`discord: cannot send to channel ${channel.id}`);
    for (const [index, content] of chunks.entries()) {
      await channel.send({
        content,
        ...(index === 0 && source ? { reply: { messageReference: source.id, failIfNotExists: false } } : {}),
        ...(index === chunks.length - 1 && files.length > 0 ? { files } : {}),
        ...(index === chunks.length - 1 && buttons.length > 0 ? { components: buttons } : {}),
      });
    }
  }

  typing(to: IncomingMessage): StopTyping {
    const source = this.sources.get(to.id);
    // A slash command shows "thinking" once deferred; only messages get a typing indicator.
    if (!source || isInteraction(source) || !source.channel.isSendable()) return () => {};
    const channel = source.channel;
    const ping = (): void => {
      channel.sendTyping().catch((error: unknown) => this.log.debug({ err: error }, "discord: typing failed"));
    };
    let refresh: NodeJS.Timeout | undefined;
    const first = setTimeout(() => {
      ping();
      refresh = setInterval(ping, TYPING_REFRESH_MS);
    }, this.options.typingAfterMs ?? DEFAULTS.typingAfterMs);
    return () => {
      clearTimeout(first);
      clearInterval(refresh);
    };
  }

  status(): IntegrationStatus {
    const client = this.client;
    const guilds = client?.guilds.cache.map((g) => `${g.name} (${g.id})`) ?? [];
    if (!client || !this.connected) {
      return { name: "discord", state: "offline", detail: `not connected to ${this.options.apiBase}` };
    }
    return {
      name: "discord",
      state: "configured",
      detail: `connected as ${client.user?.tag ?? "?"}; guilds: ${guilds.join(", ") || "none"}; resumed ${this.resumes}x`,
    };
  }

  async stop(): Promise<void> {
    const drained = Promise.allSettled([...this.queues.values()]);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref())]);
    // Closing the gateway ourselves is not a lost connection: the shard events below stay quiet.
    this.stopping = true;
    this.connected = false;
    await this.client?.destroy();
    this.markFinished();
  }

  private setConnected(connected: boolean, reason: string | null): void {
    const changed = connected !== this.connected;
    this.connected = connected;
    if (changed || !connected) this.options.onStateChange?.(connected ? "connected" : "disconnected", reason);
  }

  private async login(client: Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.options.loginTimeoutMs ?? DEFAULTS.loginTimeoutMs;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DiscordTransportError("login-timeout", `no READY from Discord within ${timeoutMs} ms (API ${this.options.apiBase})`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([client.login(this.options.token), timeout]);
    } catch (error) {
      await client.destroy();
      if (error instanceof DiscordTransportError) throw error;
      const rejected =
        (error instanceof DiscordAPIError && error.status === 401) ||
        (error instanceof DiscordjsError && error.code === DiscordjsErrorCodes.TokenInvalid);
      throw rejected
        ? new DiscordTransportError("token-rejected", 'Discord rejected the bot token: check "discordTokenFile"', { cause: error })
        : new DiscordTransportError("login-failed", `cannot connect to Discord at ${this.options.apiBase}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  private listen(client: Client): void {
    client.on(Events.MessageCreate, (message) => this.onDiscordMessage(message));
    client.on(Events.InteractionCreate, (interaction) => {
      if (interaction.isChatInputCommand()) this.onInteraction(interaction);
      else if (interaction.isButton()) this.onButton(interaction);
    });
    client.on(Events.ShardDisconnect, (event, shard) => {
      this.setConnected(false, `closed-${event.code}`);
      if (this.stopping) this.log.debug({ shard, code: event.code }, "discord: gateway closed");
      else this.log.warn({ shard, code: event.code }, "discord: disconnected");
    });
    client.on(Events.ShardReconnecting, (shard) => {
      this.setConnected(false, "reconnecting");
      if (!this.stopping) this.log.warn({ shard }, "discord: connection lost, reconnecting");
    });
    client.on(Events.ShardResume, (shard, replayed) => {
      this.setConnected(true, null);
      this.resumes += 1;
      this.log.info({ shard, replayed }, "discord: resumed session");
    });
    client.on(Events.ShardReady, (shard) => {
      if (!this.connected && this.announced) this.log.info({ shard }, "discord: new session after reconnect");
      this.setConnected(true, null);
    });
    client.on(Events.ShardError, (error, shard) => this.log.error({ err: error, shard }, "discord: gateway error"));
    client.on(Events.Warn, (warning) => this.log.warn({ warning }, "discord: warning"));
    client.on(Events.Error, (error) => this.log.error({ err: error }, "discord: client error"));
    client.on(Events.Invalidated, () => {
      this.setConnected(false, "session-invalidated");
      this.log.error("discord: session invalidated (token revoked?); stopping");
      this.markFinished();
    });
  }

  private onDiscordMessage(message: Message): void {
    const botId = this.client?.user?.id;
    if (message.author.id === botId) return; // our own posts come back as events
    if (message.author.bot || message.system) return;
    const incoming = this.fromMessage(message, botId);
    if (!this.admitted(incoming, message)) return;
    this.dispatch(incoming, message);
  }

  private onInteraction(interaction: ChatInputCommandInteraction): void {
    const args = interaction.options.data.map((option) => String(option.value ?? ""));
    this.dispatchInteraction(interactionMessage(interaction, [interaction.commandName, ...args].join(" ")), interaction);
  }

  /**
   * A confirmation button: the presser's own `confirm <id>` / `cancel <id>`, through the same access
   * rules as anything they type (a stranger's press is refused privately). The brain checks that the
   * presser is the maintainer who asked.
   */
  private onButton(interaction: ButtonInteraction): void {
    const match = CONFIRM_BUTTON.exec(interaction.customId);
    if (!match) return;
    this.dispatchInteraction(interactionMessage(interaction, `${match[1] ?? "cancel"} ${match[2] ?? ""}`), interaction);
  }

  /** Access first (a refusal is private and immediate), then the queue, deferred in time if slow. */
  private dispatchInteraction(incoming: IncomingMessage, interaction: Interaction): void {
    if (!this.admitted(incoming, interaction)) return;
    // Acknowledge a slow answer in time, or Discord shows the command as failed.
    const defer = setTimeout(() => {
      if (interaction.replied || interaction.deferred) return;
      const deferral = interaction
        .deferReply()
        .then(() => undefined)
        .catch((error: unknown) => this.log.warn({ err: error }, "discord: deferring a command failed"));
      this.deferrals.set(interaction.id, deferral);
    }, this.options.deferAfterMs ?? DEFAULTS.deferAfterMs);
    this.dispatch(incoming, interaction, async () => {
      clearTimeout(defer);
      await this.deferrals.get(interaction.id);
      this.deferrals.delete(interaction.id);
      if (!interaction.replied && !interaction.deferred) {
        // Nothing answered (an empty reply): close the interaction rather than leave it spinning.
        await interaction.reply({ content: "Nothing to say.", flags: MessageFlags.Ephemeral });
      }
    });
  }

  /**
   * Asks the router's access rules on arrival. A message it does not admit never enters a queue:
   * a refusal goes out at once (ephemeral for an interaction), and an interaction it ignores is
   * closed privately so it does not spin.
   */
  private admitted(incoming: IncomingMessage, source: Source): boolean {
    const admission = this.admit?.(incoming) ?? { admitted: true };
    if (admission.admitted) return true;
    const text = admission.reply?.text;
    const answer = async (): Promise<void> => {
      if (isInteraction(source)) {
        await source.reply({ content: (text ?? "Nothing to say.").slice(0, 2000), flags: MessageFlags.Ephemeral });
      } else if (text !== undefined && source.channel.isSendable()) {
        await source.channel.send({ content: text.slice(0, 2000), reply: { messageReference: source.id, failIfNotExists: false } });
      }
    };
    answer().catch((error: unknown) => this.log.warn({ err: error, message: incoming.id }, "discord: sending a refusal failed"));
    return false;
  }

  private fromMessage(message: Message, botId: string | undefined): IncomingMessage {
    // The bot's own managed role counts as the bot: Discord's autocomplete often inserts it for "@name".
    const botRole = botId === undefined ? undefined : (message.guild?.roles.botRoleFor(botId) ?? undefined);
    const mentioned =
      botId !== undefined &&
      (message.mentions.users.has(botId) || (botRole !== undefined && message.mentions.roles.has(botRole.id)) || message.mentions.repliedUser?.id === botId);
    const self = botRole === undefined ? `<@!?${botId}>` : `<@!?${botId}>|<@&${botRole.id}>`;
    const text = botId === undefined ? message.content : message.content.replace(new RegExp(self, "g"), "");
    const roleIds = message.member ? [...message.member.roles.cache.keys()].filter((id) => id !== message.guildId) : [];
    return {
      id: message.id,
      text: text.trim(),
      author: { id: message.author.id, name: message.member?.displayName ?? message.author.username, roleIds },
      conversation: message.channelId,
      origin: message.inGuild() ? "guild" : "dm",
      addressed: mentioned,
      guildId: message.guildId ?? undefined,
      channelId: message.channelId,
      channelKeys: channelKeys(message.channel),
      context: contextOf(message, botId),
      receivedAt: new Date(),
    };
  }

  /** Queues an admitted message behind earlier ones of its conversation; a failure is logged, never thrown. */
  private dispatch(incoming: IncomingMessage, source: Source, after?: () => Promise<void>): void {
    const handler = this.onMessage;
    if (!handler) return;
    this.sources.set(incoming.id, source);
    const key = incoming.conversation;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous
      .then(() => handler(incoming))
      .then(() => after?.())
      .catch((error: unknown) => {
        const code = error instanceof DiscordAPIError ? error.code : undefined;
        this.log.error({ err: error, code, message: incoming.id, conversation: key }, "discord: handling a message failed");
      })
      .finally(() => {
        this.sources.delete(incoming.id);
        if (this.queues.get(key) === run) this.queues.delete(key);
      });
    this.queues.set(key, run);
  }

  private async answerInteraction(
    interaction: Interaction,
    chunks: readonly string[],
    ephemeral: boolean,
    buttons: ReadonlyArray<APIActionRowComponent<APIButtonComponent>>,
    files: ReadonlyArray<{ attachment: Buffer; name: string }> = [],
  ): Promise<void> {
    const flags = ephemeral ? MessageFlags.Ephemeral : undefined;
    await this.deferrals.get(interaction.id);
    const last = chunks.length - 1;
    const extra = (index: number): { components?: Array<APIActionRowComponent<APIButtonComponent>>; files?: Array<{ attachment: Buffer; name: string }> } =>
      index === last ? { ...(buttons.length > 0 ? { components: [...buttons] } : {}), ...(files.length > 0 ? { files: [...files] } : {}) } : {};
    let rest = chunks.map((content, index) => ({ content, ...extra(index) }));
    if (interaction.deferred && ephemeral && !interaction.ephemeral) {
      // The deferral is public and an edit keeps that: withdraw it, and answer privately instead.
      await interaction.deleteReply();
      for (const part of rest) await interaction.followUp({ ...part, flags: MessageFlags.Ephemeral });
      return;
    } else if (interaction.deferred) {
      const [first, ...others] = rest;
      if (first) await interaction.editReply(first);
      rest = others;
    } else {
      const [first, ...others] = rest;
      if (first) await interaction.reply({ ...first, ...(flags ? { flags } : {}) });
      rest = others;
    }
    for (const part of rest) await interaction.followUp({ ...part, ...(flags ? { flags } : {}) });
  }

  private async channelOf(to: IncomingMessage): Promise<TextBasedChannel> {
    const channel = to.channelId ? await this.client?.channels.fetch(to.channelId) : undefined;
    if (!channel?.isTextBased()) throw new Error(`discord: no text channel for message ${to.id}`);
    return channel;
  }

  /** Bulk-overwrites the built-in commands in every allowed guild the bot is in. */
  private async registerCommands(client: Client): Promise<void> {
    const definitions = this.options.commands.map(slashDefinition);
    for (const guildId of Object.keys(this.options.discord.guilds)) {
      if (!client.guilds.cache.has(guildId)) {
        this.log.warn({ guild: guildId }, "discord: a configured guild is not one the bot is in; invite it there");
        continue;
      }
      try {
        await client.application?.commands.set(definitions, guildId);
        this.log.info({ guild: guildId, commands: definitions.map((d) => d.name) }, "discord: slash commands registered");
      } catch (error) {
        this.log.error({ err: error, guild: guildId }, "discord: registering slash commands failed");
      }
    }
  }

  /** A post of the agent's own (the GitHub digest) to a channel of an allowed guild, split at 2,000 characters, pinging nobody. */
  async post(wanted: string, text: string): Promise<void> {
    const channel = this.client?.channels.cache.find(
      (c) => !c.isDMBased() && Object.hasOwn(this.options.discord.guilds, c.guildId) && (c.id === wanted || ("name" in c && c.name === wanted)),
    );
    if (!channel?.isSendable()) throw new Error(`discord: channel "${wanted}" not found in an allowed guild (check github.digest.channel)`);
    for (const content of splitForDiscord(text)) await channel.send({ content, allowedMentions: { parse: [] } });
  }

  /** One message in the start channel of each allowed guild, on the first connect only. */
  private async announce(client: Client): Promise<void> {
    const wanted = this.options.discord.startChannel;
    if (this.announced || wanted === null) return;
    this.announced = true;
    const channel = client.channels.cache.find(
      (c) =>
        !c.isDMBased() &&
        Object.hasOwn(this.options.discord.guilds, c.guildId) &&
        (c.id === wanted || ("name" in c && c.name === wanted)),
    );
    if (!channel?.isSendable()) {
      this.log.warn({ startChannel: wanted }, "discord: start channel not found in an allowed guild; not announcing");
      return;
    }
    const gif = pickGif("greeting", this.options.random ?? DEFAULTS.random);
    try {
      await channel.send({ content: `${this.options.instance} online. ${gif}` });
    } catch (error) {
      this.log.error({ err: error, channel: channel.id }, "discord: announcing failed");
    }
  }
}

/**
 * Text that came with a message but is not its author's words: the message it replies to (unless
 * the bot's own, which the conversation already holds) and forwarded messages. Only the author's
 * own earlier message counts as theirs; anyone else's, a maintainer's included, is third party.
 */
function contextOf(message: Message, botId: string | undefined): ContextPiece[] {
  const pieces: ContextPiece[] = [];
  const referenceId = message.reference?.messageId;
  const referenced = referenceId === undefined ? undefined : message.channel.messages.cache.get(referenceId);
  if (referenced && referenced.author.id !== botId) {
    pieces.push({
      origin: referenced.author.id === message.author.id ? "maintainer" : "third-party",
      source: `discord message by ${referenced.author.username} (id ${referenced.author.id})`,
      text: referenced.content || "(no text)",
    });
  }
  for (const snapshot of message.messageSnapshots.values()) {
    pieces.push({ origin: "third-party", source: "forwarded discord message", text: snapshot.content || "(no text)" });
  }
  return pieces;
}

/** One row per proposal (Discord allows five): Confirm runs it, Cancel drops it. */
function confirmationButtons(requests: readonly ConfirmationRequest[]): Array<APIActionRowComponent<APIButtonComponent>> {
  return requests.slice(0, MAX_BUTTON_ROWS).map((request) => ({
    type: ComponentType.ActionRow,
    components: [
      { type: ComponentType.Button, style: ButtonStyle.Success, label: `Confirm ${request.id}`, custom_id: `clawd:confirm:${request.id}` },
      { type: ComponentType.Button, style: ButtonStyle.Secondary, label: "Cancel", custom_id: `clawd:cancel:${request.id}` },
    ],
  }));
}

/** Who pressed or typed: the member's display name and roles in the guild (without @everyone). */
/** A slash command or a button press as a message: always addressed to the bot, always answered. */
function interactionMessage(interaction: ChatInputCommandInteraction | ButtonInteraction, text: string): IncomingMessage {
  return {
    id: interaction.id,
    text,
    author: interactionAuthor(interaction),
    conversation: interaction.channelId,
    origin: interaction.guildId ? "guild" : "dm",
    addressed: true,
    expectsResponse: true,
    guildId: interaction.guildId ?? undefined,
    channelId: interaction.channelId,
    channelKeys: channelKeys(interaction.channel),
    receivedAt: new Date(),
  };
}

function interactionAuthor(interaction: Interaction): IncomingMessage["author"] {
  const member = interaction.member;
  const roleIds = member instanceof GuildMember ? [...member.roles.cache.keys()] : Array.isArray(member?.roles) ? member.roles : [];
  return {
    id: interaction.user.id,
    name: member instanceof GuildMember ? member.displayName : interaction.user.username,
    roleIds: roleIds.filter((id) => id !== interaction.guildId),
  };
}

/** The ids and names a channel rule may name: the channel, then a thread's parent. */
function channelKeys(channel: TextBasedChannel | null): string[] {
  if (!channel || channel.isDMBased()) return [];
  const keys = [channel.id, channel.name];
  if (channel.isThread() && channel.parentId) keys.push(channel.parentId, ...(channel.parent ? [channel.parent.name] : []));
  return keys;
}

function slashDefinition(command: Command): RESTPostAPIChatInputApplicationCommandsJSONBody {
  const argument = command.argument;
  return {
    name: command.name,
    description: command.summary.slice(0, 100),
    options: argument
      ? [
          {
            type: ApplicationCommandOptionType.String,
            name: argument.name,
            description: argument.description.slice(0, 100),
            required: false,
            ...(argument.choices ? { choices: argument.choices.map((c) => ({ name: c, value: c })) } : {}),
          },
        ]
      : [],
  };
}
