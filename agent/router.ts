import { randomUUID } from "node:crypto";
import type { Brain } from "./brain/types.ts";
import type { Command, CommandContext } from "./commands/types.ts";
import type { Logger } from "./log.ts";
import type { StatusReport } from "./status.ts";
import type { IncomingMessage, Reply } from "./transport/types.ts";

export interface RouterDeps {
  readonly commands: readonly Command[];
  readonly brain: Brain;
  readonly log: Logger;
  readonly status: () => StatusReport;
  readonly now?: () => Date;
  readonly random?: () => number;
}

/**
 * Decides what answers a message: a built-in command when the first word names one, the brain
 * otherwise. A failure becomes a short apology with a reference id; the stack goes to the log only.
 */
export class Router {
  private readonly deps: RouterDeps;
  private readonly byName: ReadonlyMap<string, Command>;

  constructor(deps: RouterDeps) {
    this.deps = deps;
    this.byName = new Map(deps.commands.map((c) => [c.name, c]));
  }

  async handle(message: IncomingMessage): Promise<Reply | undefined> {
    const text = message.text.trim();
    if (text === "") return undefined;
    const [first = "", ...args] = text.split(/\s+/);
    const command = this.byName.get(first.toLowerCase());
    const log = this.deps.log.child({ message: message.id, conversation: message.conversation });
    try {
      if (command) {
        log.info({ command: command.name }, "command");
        return await command.run(args, this.context(message));
      }
      return await this.deps.brain.respond(message);
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
