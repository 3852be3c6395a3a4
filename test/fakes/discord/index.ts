/**
 * A local Discord: gateway (WebSocket, JSON frames, API v10) and REST on 127.0.0.1, port 0.
 * Driven by the real discord.js in tests. It speaks the documented protocol: HELLO, heartbeats,
 * IDENTIFY → READY + GUILD_CREATE, RESUME → replay + RESUMED, MESSAGE_CREATE and
 * INTERACTION_CREATE dispatches; REST for messages, typing, interaction callbacks and followups,
 * guild command registration, with injectable 429s. It records what the bot did so tests can
 * assert on it. Imports nothing from the product.
 */
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { buffer as readBuffer } from "node:stream/consumers";
import { WebSocketServer, WebSocket, type RawData } from "ws";
import {
  botRoleId,
  ChannelType,
  channelJson,
  guildCreateJson,
  memberJson,
  snowflake,
  userJson,
  type FakeChannel,
  type FakeGuild,
  type FakeUser,
  type Json,
} from "./model.ts";

export { ChannelType, snowflake };
export type { FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser } from "./model.ts";

export interface DiscordFakeOptions {
  readonly guilds: readonly FakeGuild[];
  readonly token?: string;
  readonly bot?: FakeUser;
  readonly applicationId?: string;
  /** Heartbeat interval announced in HELLO. */
  readonly heartbeatIntervalMs?: number;
  /** Echo the bot's own posts back as MESSAGE_CREATE, as Discord does. */
  readonly echoOwnMessages?: boolean;
}

const DEFAULTS = {
  token: "fake-discord-token",
  bot: { id: "100000000000000001", username: "CLAWDINATOR-1", bot: true },
  applicationId: "100000000000000001",
  heartbeatIntervalMs: 41_250,
  echoOwnMessages: true,
} as const satisfies Required<Omit<DiscordFakeOptions, "guilds">>;

const MAX_CONTENT = 2000;
/** Dispatches a session keeps for replay on RESUME. */
const REPLAY_WINDOW = 2000;

/** A file uploaded with a message (multipart/form-data `files[n]`, described in `payload_json.attachments`). */
export interface UploadedFile {
  readonly filename: string;
  readonly contentType: string;
  readonly content: string;
}

export interface PostedMessage {
  readonly id: string;
  readonly channelId: string;
  readonly content: string;
  /** Files uploaded with it. */
  readonly files: readonly UploadedFile[];
  /** The message this one replies to (message_reference.message_id). */
  readonly replyTo?: string;
  readonly allowedMentions?: unknown;
  /** Message components (action rows of buttons), as sent. */
  readonly components?: readonly Json[];
  readonly at: number;
  /** `performance.now()` when the request arrived, for latency measurements. */
  readonly arrivedAt: number;
}

export interface TypingRecord {
  readonly channelId: string;
  readonly at: number;
}

export interface CommandRegistration {
  readonly applicationId: string;
  readonly guildId: string;
  readonly commands: readonly Json[];
}

export interface InteractionReply {
  readonly interactionId?: string;
  readonly token: string;
  /** `callback` (the initial response, with its callback type), `followup`, `edit` or `delete` of the original. */
  readonly kind: "callback" | "followup" | "edit" | "delete";
  readonly callbackType?: number;
  readonly content?: string;
  /**
   * Whether only the invoker sees it. As on Discord, an edit of the original response has the
   * visibility of that response (a public deferral stays public whatever flags the edit sends).
   */
  readonly files: readonly UploadedFile[];
  readonly ephemeral: boolean;
  readonly at: number;
}

export interface RestRecord {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface InjectedMessage {
  readonly author: FakeUser;
  readonly content: string;
  /** Guild channel id (guild and member come from the fake's guilds); ignored for a DM. */
  readonly channelId?: string;
  /** A direct message (channel_type 1, no guild, no member). */
  readonly dm?: boolean;
  /** Prefix the content with `<@bot>` and list the bot in `mentions`. */
  readonly mentionBot?: boolean;
  /** Prefix the content with `<@&role>` of the bot's managed role and list it in `mention_roles`. */
  readonly mentionBotRole?: boolean;
  /** Member role ids; default: the roles the guild's member list gives this user. */
  readonly roles?: readonly string[];
  /** Reply to this message id (message_reference): one injected before or posted by the bot; the event carries it as `referenced_message`. */
  readonly replyTo?: string;
}

export interface InjectedButtonClick {
  readonly user: FakeUser;
  /** The bot's post that carries the button. */
  readonly messageId: string;
  readonly customId: string;
  readonly roles?: readonly string[];
}

export interface InjectedInteraction {
  readonly user: FakeUser;
  readonly guildId: string;
  readonly channelId: string;
  readonly commandName: string;
  readonly options?: Readonly<Record<string, string>>;
  readonly roles?: readonly string[];
}

export interface RestFailure {
  readonly method: string;
  /** Matched against the path after `/api/v10`. */
  readonly path: RegExp;
  readonly status?: number;
  /** Seconds, as Discord sends it. */
  readonly retryAfter?: number;
  readonly global?: boolean;
  /** How many matching requests fail; default 1. */
  readonly times?: number;
}

export interface DiscordFake {
  /** What discord.js's `rest.api` option takes (it appends `/v10`). */
  readonly apiBase: string;
  readonly gatewayUrl: string;
  readonly token: string;
  readonly botUserId: string;
  readonly applicationId: string;
  readonly posts: readonly PostedMessage[];
  readonly typing: readonly TypingRecord[];
  readonly commands: readonly CommandRegistration[];
  readonly interactionReplies: readonly InteractionReply[];
  readonly requests: readonly RestRecord[];
  readonly identifies: readonly Json[];
  readonly resumes: readonly Json[];
  /** Injects a MESSAGE_CREATE; returns the message id. */
  sendMessage(message: InjectedMessage): string;
  /** Injects an INTERACTION_CREATE for a slash command; returns its id and token. */
  sendInteraction(interaction: InjectedInteraction): { id: string; token: string };
  /** Injects an INTERACTION_CREATE for a button press (type 3) on one of the bot's posts; returns its id and token. */
  clickButton(click: InjectedButtonClick): { id: string; token: string };
  /** Makes the next matching REST request(s) fail, by default with 429 and `retry_after`. */
  failNext(failure: RestFailure): void;
  /** Resolves once the predicate holds after some recorded change; rejects after the timeout. */
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Drops the bot's gateway connection (TCP reset by default, or a close code) so it must resume. */
  dropConnection(closeCode?: number): void;
  /** Drops the connection and forgets every session, so a RESUME gets INVALID_SESSION and the bot must identify anew. */
  invalidateSessions(): void;
  readonly connected: boolean;
  /** Empties every record (posts, typing, requests, replies…), so a long run measures the bot, not the fake. */
  clearRecords(): void;
  close(): Promise<void>;
}

interface Session {
  readonly id: string;
  socket: WebSocket | undefined;
  seq: number;
  readonly events: Array<{ s: number; t: string; d: unknown }>;
}

export async function startDiscordFake(options: DiscordFakeOptions): Promise<DiscordFake> {
  const token = options.token ?? DEFAULTS.token;
  const bot: FakeUser = options.bot ?? DEFAULTS.bot;
  const applicationId = options.applicationId ?? DEFAULTS.applicationId;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs;
  const echoOwnMessages = options.echoOwnMessages ?? DEFAULTS.echoOwnMessages;
  const guilds = options.guilds;

  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  const changed = (): void => void changes.emit("change");

  const posts: PostedMessage[] = [];
  const typing: TypingRecord[] = [];
  const commands: CommandRegistration[] = [];
  const interactionReplies: InteractionReply[] = [];
  /** Each interaction's original response, by interaction token: who it belongs to and who sees it. */
  const originals = new Map<string, { interactionId: string; ephemeral: boolean }>();
  const requests: RestRecord[] = [];
  const identifies: Json[] = [];
  const resumes: Json[] = [];
  const failures: Array<RestFailure & { left: number }> = [];
  const sessions = new Map<string, Session>();
  let current: Session | undefined;
  /** Every message the fake knows (injected or posted), by id, for `referenced_message` and button presses. */
  const known = new Map<string, Json>();

  const channelIndex = new Map<string, { channel: FakeChannel; guild: FakeGuild }>();
  for (const guild of guilds) for (const channel of guild.channels) channelIndex.set(channel.id, { channel, guild });

  // ---------------------------------------------------------------- gateway
  const wss = new WebSocketServer({ noServer: true });
  const send = (socket: WebSocket, payload: Json): void => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(payload));
  };
  const dispatch = (t: string, d: unknown, session: Session | undefined = current): void => {
    if (!session) throw new Error(`cannot dispatch ${t}: the bot has not identified on the fake gateway`);
    const s = ++session.seq;
    session.events.push({ s, t, d });
    if (session.events.length > REPLAY_WINDOW) session.events.splice(0, session.events.length - REPLAY_WINDOW);
    if (session.socket) send(session.socket, { op: 0, s, t, d });
  };

  wss.on("connection", (socket: WebSocket) => {
    let session: Session | undefined;
    send(socket, { op: 10, d: { heartbeat_interval: heartbeatIntervalMs }, s: null, t: null });
    socket.on("message", (raw: RawData) => {
      let frame: { op?: number; d?: Json };
      try {
        frame = JSON.parse(raw.toString()) as { op?: number; d?: Json };
      } catch {
        socket.close(4002, "Error while decoding payload");
        return;
      }
      const d = frame.d ?? {};
      switch (frame.op) {
        case 1:
          send(socket, { op: 11, d: null, s: null, t: null });
          return;
        case 2: {
          if (d.token !== token) {
            socket.close(4004, "Authentication failed");
            return;
          }
          identifies.push(d);
          session = { id: snowflake(), socket, seq: 0, events: [] };
          sessions.set(session.id, session);
          current = session;
          dispatch(
            "READY",
            {
              v: 10,
              user: { ...userJson(bot), bot: true, verified: true, mfa_enabled: false, flags: 0 },
              guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
              session_id: session.id,
              resume_gateway_url: gatewayUrl,
              shard: [0, 1],
              application: { id: applicationId, flags: 0 },
              private_channels: [],
              relationships: [],
              presences: [],
              guild_join_requests: [],
              user_settings: {},
            },
            session,
          );
          for (const guild of guilds) dispatch("GUILD_CREATE", guildCreateJson(guild, bot), session);
          changed();
          return;
        }
        case 6: {
          const known = typeof d.session_id === "string" ? sessions.get(d.session_id) : undefined;
          resumes.push(d);
          if (!known || d.token !== token) {
            send(socket, { op: 9, d: false, s: null, t: null });
            changed();
            return;
          }
          session = known;
          session.socket?.terminate();
          session.socket = socket;
          current = session;
          const after = typeof d.seq === "number" ? d.seq : 0;
          for (const event of session.events) if (event.s > after) send(socket, { op: 0, ...event });
          dispatch("RESUMED", null, session);
          changed();
          return;
        }
        default:
          // Presence updates, member requests, voice: accepted and ignored.
          return;
      }
    });
    socket.on("close", () => {
      if (session?.socket === socket) session.socket = undefined;
      changed();
    });
  });

  // ---------------------------------------------------------------- REST
  const server = createServer((request, response) => {
    void handleRest(request, response).catch((error: unknown) => {
      reply(response, 500, { message: `fake Discord failed: ${String(error)}`, code: 0 });
    });
  });
  server.on("upgrade", (request, socket, head) => {
    if (!request.url?.startsWith("/gw")) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
  });

  const reply = (response: ServerResponse, status: number, body?: unknown): void => {
    if (body === undefined) {
      response.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
  };

  /** The JSON body, or for a multipart upload (files) its `payload_json` and the files, as Discord reads them. */
  async function readBody(request: IncomingMessage): Promise<{ json: Json; files: UploadedFile[] }> {
    const raw = await readBuffer(request);
    const type = request.headers["content-type"] ?? "";
    if (!type.startsWith("multipart/form-data")) return { json: raw.length === 0 ? {} : (JSON.parse(raw.toString("utf8")) as Json), files: [] };
    const form = await new Response(raw, { headers: { "content-type": type } }).formData();
    const payload = form.get("payload_json");
    const json = typeof payload === "string" ? (JSON.parse(payload) as Json) : {};
    const files: UploadedFile[] = [];
    for (const [name, value] of form.entries()) {
      if (!/^files\[\d+\]$/.test(name) || typeof value === "string") continue;
      files.push({ filename: value.name, contentType: value.type, content: await value.text() });
    }
    return { json, files };
  }

  async function readJson(request: IncomingMessage): Promise<Json> {
    return (await readBody(request)).json;
  }

  function tooLong(content: unknown): boolean {
    return typeof content === "string" && [...content].length > MAX_CONTENT;
  }

  const invalidContent = {
    message: "Invalid Form Body",
    code: 50035,
    errors: { content: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 2000 or fewer in length." }] } },
  };

  async function handleRest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://fake");
    const method = request.method ?? "GET";
    const record = (status: number): void => {
      requests.push({ method, path: url.pathname, status });
      changed();
    };
    // discord.js escapes route parts (`@original` arrives as `%40original`).
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, "");
    if (path === url.pathname) {
      record(404);
      return reply(response, 404, { message: "404: Not Found", code: 0 });
    }
    const interactionCallback = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path);
    const webhook = /^\/webhooks\/(\d+)\/([^/]+)(\/messages\/@original)?$/.exec(path);
    // Interaction endpoints authenticate by their token; everything else needs the bot token.
    if (!interactionCallback && !webhook && request.headers.authorization !== `Bot ${token}`) {
      record(401);
      return reply(response, 401, { message: "401: Unauthorized", code: 0 });
    }
    const failure = failures.find((f) => f.method === method && f.path.test(path) && f.left > 0);
    if (failure) {
      failure.left -= 1;
      const status = failure.status ?? 429;
      record(status);
      if (status === 429) {
        const retryAfter = failure.retryAfter ?? 0.05;
        // Discord rounds the header up to whole seconds; the fake sends the exact value so tests stay quick.
        response.setHeader("retry-after", String(retryAfter));
        response.setHeader("x-ratelimit-scope", failure.global ? "global" : "user");
        if (failure.global) response.setHeader("x-ratelimit-global", "true");
        return reply(response, 429, { message: "You are being rate limited.", retry_after: retryAfter, global: failure.global ?? false });
      }
      return reply(response, status, { message: "injected failure", code: 0 });
    }

    if (method === "GET" && path === "/gateway/bot") {
      record(200);
      return reply(response, 200, {
        url: gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
      });
    }
    if (method === "GET" && path === "/users/@me") {
      record(200);
      return reply(response, 200, userJson(bot));
    }

    const channelMessages = /^\/channels\/(\d+)\/messages$/.exec(path);
    if (method === "POST" && channelMessages) {
      const channelId = channelMessages[1] as string;
      const { json: body, files } = await readBody(request);
      if (tooLong(body.content)) {
        record(400);
        return reply(response, 400, invalidContent);
      }
      if ((typeof body.content !== "string" || body.content === "") && !Array.isArray(body.embeds) && files.length === 0) {
        record(400);
        return reply(response, 400, { message: "Cannot send an empty message", code: 50006 });
      }
      const reference = body.message_reference as { message_id?: string } | undefined;
      const components = Array.isArray(body.components) ? (body.components as Json[]) : [];
      const message: Json = {
        ...messageJson({
          id: snowflake(),
          channelId,
          author: bot,
          content: String(body.content ?? ""),
          replyTo: reference?.message_id,
          files,
        }),
        components,
      };
      const postId = String(message.id);
      known.set(postId, message);
      posts.push({
        id: postId,
        channelId,
        content: String(body.content ?? ""),
        files,
        replyTo: reference?.message_id,
        allowedMentions: body.allowed_mentions,
        components,
        at: Date.now(),
        arrivedAt: performance.now(),
      });
      record(200);
      reply(response, 200, message);
      if (echoOwnMessages && current) dispatch("MESSAGE_CREATE", message);
      return;
    }

    const typingRoute = /^\/channels\/(\d+)\/typing$/.exec(path);
    if (method === "POST" && typingRoute) {
      typing.push({ channelId: typingRoute[1] as string, at: Date.now() });
      record(204);
      return reply(response, 204);
    }

    const guildCommands = /^\/applications\/(\d+)\/guilds\/(\d+)\/commands$/.exec(path);
    if (method === "PUT" && guildCommands) {
      const body = (await readJson(request)) as unknown;
      const list = Array.isArray(body) ? (body as Json[]) : [];
      const [, appId = "", guildId = ""] = guildCommands;
      const registered = list.map((c) => ({
        id: snowflake(),
        application_id: appId,
        guild_id: guildId,
        version: snowflake(),
        type: 1,
        default_member_permissions: null,
        dm_permission: false,
        nsfw: false,
        options: [],
        ...c,
      }));
      commands.push({ applicationId: appId, guildId, commands: registered });
      record(200);
      return reply(response, 200, registered);
    }

    if (method === "POST" && interactionCallback) {
      const [, interactionId, interactionToken = ""] = interactionCallback;
      const { json: body, files } = await readBody(request);
      if (interactionReplies.some((r) => r.kind === "callback" && r.interactionId === interactionId)) {
        record(400);
        return reply(response, 400, { message: "Interaction has already been acknowledged.", code: 40060 });
      }
      const data = (body.data ?? {}) as Json;
      if (tooLong(data.content)) {
        record(400);
        return reply(response, 400, invalidContent);
      }
      originals.set(interactionToken, { interactionId: interactionId ?? "", ephemeral: ((Number(data.flags ?? 0) & 64) as number) !== 0 });
      interactionReplies.push({
        interactionId,
        token: interactionToken,
        kind: "callback",
        callbackType: typeof body.type === "number" ? body.type : undefined,
        content: typeof data.content === "string" ? data.content : undefined,
        files,
        ephemeral: ((Number(data.flags ?? 0) & 64) as number) !== 0,
        at: Date.now(),
      });
      record(204);
      return reply(response, 204);
    }

    if (webhook && method === "DELETE" && webhook[3]) {
      const webhookToken = webhook[2] ?? "";
      const interactionId = originals.get(webhookToken)?.interactionId;
      interactionReplies.push({ ...(interactionId ? { interactionId } : {}), token: webhookToken, kind: "delete", files: [], ephemeral: false, at: Date.now() });
      record(204);
      return reply(response, 204);
    }

    if (webhook && (method === "POST" || method === "PATCH")) {
      const [, , webhookToken = "", original] = webhook;
      const { json: body, files } = await readBody(request);
      if (tooLong(body.content)) {
        record(400);
        return reply(response, 400, invalidContent);
      }
      const flagged = ((Number(body.flags ?? 0) & 64) as number) !== 0;
      const interactionId = originals.get(webhookToken)?.interactionId;
      interactionReplies.push({
        ...(interactionId ? { interactionId } : {}),
        token: webhookToken,
        kind: original ? "edit" : "followup",
        content: typeof body.content === "string" ? body.content : undefined,
        files,
        ephemeral: original ? (originals.get(webhookToken)?.ephemeral ?? false) : flagged,
        at: Date.now(),
      });
      record(200);
      return reply(response, 200, messageJson({ id: snowflake(), channelId: "0", author: bot, content: String(body.content ?? "") }));
    }

    record(404);
    return reply(response, 404, { message: "404: Not Found", code: 0 });
  }

  function messageJson(m: { id: string; channelId: string; author: FakeUser; content: string; replyTo?: string; files?: readonly UploadedFile[] }): Json {
    const located = channelIndex.get(m.channelId);
    return {
      id: m.id,
      channel_id: m.channelId,
      ...(located ? { guild_id: located.guild.id } : {}),
      author: userJson(m.author),
      content: m.content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: (m.files ?? []).map((file) => {
        const id = snowflake();
        const url = `http://127.0.0.1/attachments/${m.channelId}/${id}/${file.filename}`;
        return { id, filename: file.filename, size: Buffer.byteLength(file.content), url, proxy_url: url, content_type: file.contentType };
      }),
      embeds: [],
      pinned: false,
      type: m.replyTo ? 19 : 0,
      flags: 0,
      components: [],
      ...(m.replyTo ? { message_reference: { type: 0, message_id: m.replyTo, channel_id: m.channelId } } : {}),
    };
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const apiBase = `http://127.0.0.1:${port}/api`;
  const gatewayUrl = `ws://127.0.0.1:${port}/gw`;

  const rolesOf = (guild: FakeGuild, userId: string): readonly string[] =>
    guild.members?.find((m) => m.user.id === userId)?.roles ?? [];

  return {
    apiBase,
    gatewayUrl,
    token,
    botUserId: bot.id,
    applicationId,
    posts,
    typing,
    commands,
    interactionReplies,
    requests,
    identifies,
    resumes,
    get connected() {
      return current?.socket !== undefined;
    },

    sendMessage(message) {
      const id = snowflake();
      const content = message.mentionBot ? `<@${bot.id}> ${message.content}` : message.content;
      if (message.dm) {
        const channelId = message.channelId ?? `9${message.author.id.slice(1)}`;
        dispatch("MESSAGE_CREATE", {
          ...messageJson({ id, channelId, author: message.author, content }),
          channel_type: ChannelType.DM,
          mentions: message.mentionBot ? [userJson(bot)] : [],
        });
        return id;
      }
      const channelId = message.channelId;
      const located = channelId === undefined ? undefined : channelIndex.get(channelId);
      if (!channelId || !located) throw new Error(`sendMessage: unknown guild channel ${String(channelId)}`);
      const roles = message.roles ?? rolesOf(located.guild, message.author.id);
      const roleMention = message.mentionBotRole ? botRoleId(located.guild) : undefined;
      const created = messageJson({ id, channelId, author: message.author, content: roleMention ? `<@&${roleMention}> ${content}` : content, replyTo: message.replyTo });
      known.set(id, { ...created, guild_id: located.guild.id });
      // Discord sends the replied-to message whole; a reply to one the fake never saw is to "(earlier)" by the bot.
      const referenced = message.replyTo === undefined ? undefined : (known.get(message.replyTo) ?? messageJson({ id: message.replyTo, channelId, author: bot, content: "(earlier)" }));
      dispatch("MESSAGE_CREATE", {
        ...created,
        ...(roleMention ? { mention_roles: [roleMention] } : {}),
        guild_id: located.guild.id,
        channel_type: located.channel.type ?? ChannelType.GuildText,
        member: memberJson({ user: message.author, roles }, false),
        mentions: message.mentionBot ? [userJson(bot)] : [],
        ...(referenced ? { referenced_message: referenced } : {}),
      });
      return id;
    },

    sendInteraction(interaction) {
      const located = channelIndex.get(interaction.channelId);
      if (!located) throw new Error(`sendInteraction: unknown channel ${interaction.channelId}`);
      const id = snowflake();
      const interactionToken = `itoken-${id}`;
      const roles = interaction.roles ?? rolesOf(located.guild, interaction.user.id);
      dispatch("INTERACTION_CREATE", {
        id,
        application_id: applicationId,
        type: 2,
        token: interactionToken,
        version: 1,
        guild_id: interaction.guildId,
        channel_id: interaction.channelId,
        channel: channelJson(located.channel, located.guild.id),
        member: memberJson({ user: interaction.user, roles }, true),
        app_permissions: "0",
        locale: "en-US",
        guild_locale: "en-US",
        entitlements: [],
        authorizing_integration_owners: { "0": interaction.guildId },
        context: 0,
        data: {
          id: snowflake(),
          name: interaction.commandName,
          type: 1,
          guild_id: interaction.guildId,
          options: Object.entries(interaction.options ?? {}).map(([name, value]) => ({ name, type: 3, value })),
        },
      });
      return { id, token: interactionToken };
    },

    clickButton(click) {
      const message = known.get(click.messageId);
      if (!message) throw new Error(`clickButton: unknown message ${click.messageId}`);
      const channelId = String(message.channel_id);
      const located = channelIndex.get(channelId);
      if (!located) throw new Error(`clickButton: message ${click.messageId} is not in a guild channel`);
      const id = snowflake();
      const interactionToken = `itoken-${id}`;
      const roles = click.roles ?? rolesOf(located.guild, click.user.id);
      dispatch("INTERACTION_CREATE", {
        id,
        application_id: applicationId,
        type: 3,
        token: interactionToken,
        version: 1,
        guild_id: located.guild.id,
        channel_id: channelId,
        channel: channelJson(located.channel, located.guild.id),
        member: memberJson({ user: click.user, roles }, true),
        message: { ...message, guild_id: located.guild.id },
        app_permissions: "0",
        locale: "en-US",
        guild_locale: "en-US",
        entitlements: [],
        authorizing_integration_owners: { "0": located.guild.id },
        context: 0,
        data: { custom_id: click.customId, component_type: 2 },
      });
      return { id, token: interactionToken };
    },

    failNext(failure) {
      failures.push({ ...failure, left: failure.times ?? 1 });
    },

    waitFor(predicate, timeoutMs = 5000, what = "condition") {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate()) return;
          clearTimeout(timer);
          changes.off("change", check);
          resolve();
        };
        const timer = setTimeout(() => {
          changes.off("change", check);
          reject(new Error(`fake Discord: timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        changes.on("change", check);
      });
    },

    dropConnection(closeCode) {
      const socket = current?.socket;
      if (!socket) throw new Error("dropConnection: the bot is not connected");
      if (current) current.socket = undefined;
      if (closeCode === undefined) socket.terminate();
      else socket.close(closeCode, "dropped by the test");
      changed();
    },

    clearRecords() {
      for (const list of [posts, typing, commands, interactionReplies, requests, identifies, resumes] as unknown[][]) list.length = 0;
      originals.clear();
      known.clear();
    },

    invalidateSessions() {
      const socket = current?.socket;
      sessions.clear();
      current = undefined;
      socket?.terminate();
      changed();
    },

    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
