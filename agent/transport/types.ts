import type { ContextPiece } from "../origin.ts";
import type { IntegrationStatus } from "../status.ts";

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
  /**
   * The keys a channel rule may be configured under, most specific first: the channel's id and
   * name, then for a thread its parent's id and name. Empty or absent outside a guild.
   */
  readonly channelKeys?: readonly string[];
  /**
   * The origin shows a failure when nothing answers (a slash command): a denial becomes a private
   * refusal there instead of silence.
   */
  readonly expectsResponse?: boolean;
  /**
   * Text that came with the message but is not its author's words here: the message it replies to,
   * a forwarded message. Third-party pieces withdraw the act tools for the turn (agent/origin.ts).
   */
  readonly context?: readonly ContextPiece[];
  readonly receivedAt: Date;
}

/** A change the model proposed in a turn that held third-party text; it runs only on the maintainer's confirmation. */
export interface ConfirmationRequest {
  readonly id: string;
  /** One line: the tool and its input, as it will run. */
  readonly summary: string;
}

export interface Reply {
  readonly text: string;
  /** Only the addressee should see it (an ephemeral slash-command reply); sent normally where that does not exist. */
  readonly private?: boolean;
  /** Files posted with the reply (a coding task's diff): Discord attaches them, the shell prints them. */
  readonly files?: readonly ReplyFile[];
  /** Proposed changes awaiting the maintainer's confirmation (a button on Discord, `confirm <id>` anywhere). */
  readonly confirmations?: readonly ConfirmationRequest[];
}

/** A file attached to a reply. */
export interface ReplyFile {
  /** File name as shown (`task-2026-12-02-ab12cd34.patch`). */
  readonly name: string;
  readonly content: string;
  /** MIME type; text/plain when absent. */
  readonly contentType?: string;
}

/** Stops a typing indicator. */
export type StopTyping = () => void;

export type MessageHandler = (message: IncomingMessage) => Promise<void>;

/** Whether a message gets handled at all, and if not, what its sender is told (always privately where that exists). */
export type Admission = { readonly admitted: true } | { readonly admitted: false; readonly reply?: Reply };

/**
 * Decides access the moment a message arrives, before it waits behind others of its conversation:
 * a stranger is never queued behind a maintainer's turn, and is answered (privately) at once.
 */
export type AdmitHandler = (message: IncomingMessage) => Admission;

export interface Transport {
  readonly name: string;
  /**
   * Starts delivering messages to `onMessage`; resolves once the transport is ready. A transport that
   * queues messages calls `admit` first, on arrival, and queues only what it admits.
   */
  start(onMessage: MessageHandler, admit?: AdmitHandler): Promise<void>;
  /** Answers a message in the form its origin expects (a reply, a thread, a line on stdout). */
  send(to: IncomingMessage, reply: Reply): Promise<void>;
  /**
   * Shows that an answer is being worked on (Discord's "is typing…") until the returned function is
   * called. Optional: transports without such a signal leave it out.
   */
  typing?(to: IncomingMessage): StopTyping;
  /**
   * Posts a message of the agent's own (the GitHub digest) to a channel, by id or name, in an
   * allowed guild; not a reply to anyone. The shell prints it. Optional.
   */
  post?(channel: string, text: string): Promise<void>;
  /** Connection state for `status` (connected, guilds); absent when there is nothing to report. */

  status?(): IntegrationStatus;
  /** Resolves when the transport ends on its own (end of input) after its last message was handled. */
  readonly finished: Promise<void>;
  stop(): Promise<void>;
}
