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
  run(args: readonly string[], context: CommandContext): Promise<Reply>;
}
