/**
 * The seam between CLAWDINATOR and the place people talk to it. The shell transport and the
 * Discord transport implement the same interface; the router never knows which one it has.
 */

export interface Author {
  readonly id: string;
  readonly name: string;
  /** Role ids in the guild the message came from (Discord); empty elsewhere. */
  readonly roleIds: readonly string[];
}

export type MessageOrigin = "shell" | "guild" | "dm" | "internal";

export interface IncomingMessage {
  readonly id: string;
  /** The text with any mention of the bot removed. */
  readonly text: string;
  readonly author: Author;
  /** Key of the conversation the message belongs to (a channel or thread); context is kept per key. */
  readonly conversation: string;
  readonly origin: MessageOrigin;
  /** Whether the bot was addressed directly (a mention, a reply to it, a slash command, the shell). */
  readonly addressed: boolean;
  readonly guildId?: string;
  readonly channelId?: string;
  readonly receivedAt: Date;
}

export interface Reply {
  readonly text: string;
}

export type MessageHandler = (message: IncomingMessage) => Promise<void>;

export interface Transport {
  readonly name: string;
  /** Starts delivering messages to `onMessage`; resolves once the transport is ready. */
  start(onMessage: MessageHandler): Promise<void>;
  /** Answers a message in the form its origin expects (a reply, a thread, a line on stdout). */
  send(to: IncomingMessage, reply: Reply): Promise<void>;
  /** Resolves when the transport ends on its own (end of input) after its last message was handled. */
  readonly finished: Promise<void>;
  stop(): Promise<void>;
}
