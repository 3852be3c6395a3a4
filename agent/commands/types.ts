import type { StatusReport } from "../status.ts";
import type { IncomingMessage, Reply } from "../transport/types.ts";

export interface CommandContext {
  readonly message: IncomingMessage;
  readonly status: () => StatusReport;
  readonly now: () => Date;
  readonly random: () => number;
  readonly commands: readonly Command[];
}

/** A built-in command: answered without a model, on every transport, under the same access rules. */
export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  /** The command's one optional argument; becomes the slash command's option on Discord. */
  readonly argument?: CommandArgument;
  run(args: readonly string[], context: CommandContext): Promise<Reply>;
}

export interface CommandArgument {
  /** Lowercase, as Discord requires for option names. */
  readonly name: string;
  readonly description: string;
  /** The values Discord offers in a picker; free text when absent. */
  readonly choices?: readonly string[];
}
