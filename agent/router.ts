import { randomUUID } from "node:crypto";
import { AccessControl } from "./access.ts";
import { parseConfirmation } from "./brain/authority.ts";
import type { Brain } from "./brain/types.ts";
import type { Command, CommandContext } from "./commands/types.ts";
import type { Config } from "./config/schema.ts";
import type { Logger } from "./log.ts";
import type { StatusReport } from "./status.ts";
import type { Admission, IncomingMessage, MessageHandler, Reply, StopTyping, Transport } from "./transport/types.ts";

export interface RouterDeps {
  readonly commands: readonly Command[];
  readonly brain: Brain;
  readonly log: Logger;
  readonly status: () => StatusReport;
  readonly now?: () => Date;
  readonly random?: () => number;
  /** Who gets answers; without it every message is answered (the shell's local operator). */
  readonly access?: AccessControl;
}

/** What the transport lends the router for one message. */
export interface HandleHooks {
  /** Starts the transport's "is typing" signal while the brain works; see `Transport.typing`. */
  readonly typing?: () => StopTyping;
}

/**
 * Decides what answers a message. First access: a message the access rules deny gets nothing or a
 * short refusal, and never reaches a command or the model. Then a built-in command when the first
 * word names one, the brain otherwise. A failure becomes a short apology with a reference id; the
 * stack goes to the log only.
 */
export class Router {
  private readonly deps: RouterDeps;
  private readonly byName: ReadonlyMap<string, Command>;
  /** Messages `admit` let through, so `handle` does not decide (and count them against the rate limit) twice. */
  private readonly admitted = new WeakSet<IncomingMessage>();

  constructor(deps: RouterDeps) {
    this.deps = deps;
    this.byName = new Map(deps.commands.map((c) => [c.name, c]));
  }

  /**
   * The access decision alone, made once per message: a transport calls it on arrival, before the
   * message waits in a queue. A refusal is always private.
   */
  admit(message: IncomingMessage): Admission {
    const decision = this.deps.access?.decide(message) ?? { action: "answer" };
    if (decision.action === "answer") {
      this.admitted.add(message);
      return { admitted: true };
    }
    const log = this.deps.log.child({ message: message.id, conversation: message.conversation });
    const who = { author: message.author.id, authorName: message.author.name, origin: message.origin, reason: decision.reason };
    // Everything a non-maintainer tries is on record; the rest of the ignored traffic is noise.
    if (decision.reason === "not-maintainer" || decision.action === "refuse") log.info(who, `access: ${decision.action}`);
    else log.debug(who, "access: ignore");
    return decision.action === "refuse" ? { admitted: false, reply: { text: decision.text, private: true } } : { admitted: false };
  }

  async handle(message: IncomingMessage, hooks: HandleHooks = {}): Promise<Reply | undefined> {
    const log = this.deps.log.child({ message: message.id, conversation: message.conversation });
    if (!this.admitted.delete(message)) {
      const admission = this.admit(message);
      this.admitted.delete(message);
      if (!admission.admitted) return admission.reply;
    }
    const text = message.text.trim();
    if (text === "") return undefined;
    const [first = "", ...args] = text.split(/\s+/);
    const command = this.byName.get(first.toLowerCase());
    // The maintainer's own words answering a proposal (typed, or a button the transport turned into them).
    const confirmation = message.origin === "internal" ? undefined : parseConfirmation(text);
    try {
      if (confirmation && this.deps.brain.confirm) {
        log.info({ proposal: confirmation.id, accept: confirmation.accept }, "confirmation");
        return await this.deps.brain.confirm(message, confirmation.id, confirmation.accept);
      }
      if (command) {
        log.info({ command: command.name }, "command");
        return await command.run(args, this.context(message));
      }
      const stopTyping = hooks.typing?.();
      try {
        return await this.deps.brain.respond(message);
      } finally {
        stopTyping?.();
      }
    } catch (error) {
      const ref = randomUUID().slice(0, 8);
      log.error({ err: error, ref }, "handling a message failed");
      return { text: `Something broke on my side (ref ${ref}); it is in my log. Try again, or ask for "status".` };
    }
  }

  private context(message: IncomingMessage): CommandContext {
    return {
      message,
      status: this.deps.status,
      now: this.deps.now ?? (() => new Date()),
      random: this.deps.random ?? Math.random,
      commands: this.deps.commands,
    };
  }
}

export interface RoutingDeps {
  readonly transport: Transport;
  /** The access rules are built from these sections. */
  readonly config: Pick<Config, "discord" | "access" | "rateLimits">;
  readonly commands: readonly Command[];
  readonly brain: Brain;
  readonly log: Logger;
  readonly status: () => StatusReport;
  /** Removes secrets from every outgoing reply (the log sink's scrubber, `ScrubbingSink.scrub`). */
  readonly scrub: (text: string) => string;
}

/**
 * Puts the config's access rules in front of a router and starts the transport delivering to it.
 * agent/main.ts, the Discord test harness and bench/discord all serve through this one wiring, so
 * what the tests check and the bench measures is what runs.
 */
export async function startRouting({ transport, config, commands, brain, log, status, scrub }: RoutingDeps): Promise<void> {
  const access = new AccessControl(config);
  const router = new Router({ commands, brain, log: log.child({ component: "router" }), status, access });
  await transport.start(answerOn(transport, router, scrub), (message) => router.admit(message));
}

/** The message handler that joins a transport to the router: decide, answer, scrub, send, with typing lent. */
function answerOn(transport: Transport, router: Router, scrub: (text: string) => string): MessageHandler {
  return async (message) => {
    const typing = transport.typing?.bind(transport, message);
    const reply = await router.handle(message, { typing });
    if (reply) await transport.send(message, { ...reply, text: scrub(reply.text) });
  };
}
