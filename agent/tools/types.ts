import type { z } from "zod";
import type { MemoryStore } from "../memory/types.ts";
import type { Origin } from "../origin.ts";
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
  /**
   * Third-party text is in the turn (only possible for an act tool the maintainer confirmed): what
   * this call writes may carry it, so a store keeps that provenance (memory marks the note).
   */
  readonly thirdParty?: boolean;
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
  /** Overrides the tool's declared `output` for this one result. */
  readonly origin?: Origin;
  /** A link posted with the reply (a gif); Discord unfurls it. */
  readonly attachment?: string;
  /** Files posted with the reply (a coding task's diff). */
  readonly files?: readonly ReplyFile[];
}

/**
 * What a tool does to the world. `read` tools are always offered. `act` tools (writes, posts,
 * spawning, running code) are offered only while the turn holds nothing but the maintainer's own
 * words; after that they need the maintainer's confirmation (docs/SECURITY.md).
 */
export type ToolKind = "read" | "act";

/**
 * Whose words a tool's result carries. `third-party` (the default, the safe guess) withdraws the
 * act tools for the rest of the turn; declare `own` only for text the agent makes itself from its
 * own state (status, a gif link), never for anything that quotes a person, a file, GitHub, the web
 * or a sandbox.
 */
export type ToolOutput = "own" | "third-party";

interface ToolSpecBase<Input> {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<Input>;
  run(input: Input, context: ToolContext): Promise<ToolResult>;
}

/**
 * A tool the model can call. Its input is validated against `input` (zod) before `run`, and the
 * same schema, as JSON Schema, is what the model sees. A new tool declares its `kind`, and `output:
 * "own"` only when its result can carry no outside text:
 *
 * ```ts
 * defineTool({ name: "github_issue", kind: "read", ... })            // output third-party: withdraws act tools
 * defineTool({ name: "fleet_spawn", kind: "act", output: "own", ... }) // needs the maintainer's own words
 * ```
 */
export type ToolSpec<Input> = ToolSpecBase<Input> &
  (
    | { readonly kind: ToolKind; readonly output?: ToolOutput }
    | {
        /** @deprecated Declare `kind: "act"` (true) or `kind: "read"` (false). */
        readonly mutates: boolean;
        /** @deprecated Outputs are third party unless declared `output: "own"`. */
        readonly thirdPartyOutput?: boolean;
      }
  );
