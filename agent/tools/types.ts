import type { z } from "zod";
import type { MemoryStore } from "../memory/types.ts";
import type { StatusReport } from "../status.ts";
import type { IncomingMessage, ReplyFile } from "../transport/types.ts";

/** What a tool may use while it runs for one message. */
export interface ToolContext {
  readonly message: IncomingMessage;
  readonly memory: MemoryStore;
  readonly status: () => StatusReport;
  readonly now: () => Date;
  readonly random: () => number;
  /** Links already attached to this reply (gifs), so a tool can keep to one per reply. */
  readonly attachments: readonly string[];
}

/** A tool's answer to the model. */
export interface ToolResult {
  readonly text: string;
  /** The call did not do what was asked; the text says why and what to do instead. */
  readonly isError?: boolean;
  /**
   * Where the text came from when it is not the agent's own words (a memory note, a GitHub
   * issue). Such text is handed to the model fenced as data, never as instructions.
   */
  readonly dataSource?: string;
  /** A link posted with the reply (a gif); Discord unfurls it. */
  readonly attachment?: string;
  /** Files posted with the reply (a coding task's diff). */
  readonly files?: readonly ReplyFile[];
}

/**
 * A tool the model can call. Its input is validated against `input` (zod) before `run`, and the
 * same schema, as JSON Schema, is what the model sees.
 */
export interface ToolSpec<Input> {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<Input>;
  /**
   * Changes state (memory today; anything with a side effect tomorrow). Only offered for a
   * maintainer's own message: never for internal/scheduled messages, never after a tool's output
   * brought third-party text into the turn.
   */
  readonly mutates: boolean;
  /**
   * The output carries third-party text (GitHub issues, comments): once such a result is in the
   * turn, write tools are withdrawn until the maintainer speaks again.
   */
  readonly thirdPartyOutput?: boolean;
  run(input: Input, context: ToolContext): Promise<ToolResult>;
}
