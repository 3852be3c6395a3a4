import { randomBytes } from "node:crypto";
import { z } from "zod";
import { splitQuotes } from "../origin.ts";
import { defineTool, type Tool, type ToolRegistry } from "../tools/registry.ts";
import type { ToolResult } from "../tools/types.ts";
import type { ConfirmationRequest, IncomingMessage } from "../transport/types.ts";

/**
 * Authority follows origin (docs/SECURITY.md). A turn starts with the maintainer's own words; the
 * first third-party text in it (a quote, a replied-to message by someone else, an internal task, a
 * tool result that is not the agent's own) withdraws the act tools for the rest of the turn. Only
 * the maintainer's next own message, or their confirmation of one proposed change, acts again.
 */
export class TurnAuthority {
  private readonly why: string[] = [];

  constructor(message: IncomingMessage) {
    if (message.origin === "internal") this.taint("an internal task");
    else if (splitQuotes(message.text).quoted.length > 0) this.taint("quoted text in the message");
    for (const piece of message.context ?? []) if (piece.origin === "third-party") this.taint(piece.source);
  }

  /** Third-party text entered the turn; `source` says which, for the log. */
  taint(source: string): void {
    if (!this.why.includes(source)) this.why.push(source);
  }

  get thirdParty(): boolean {
    return this.why.length > 0;
  }

  /** The sources of third-party text so far, for the log. */
  get sources(): readonly string[] {
    return this.why;
  }

  /** The tools this step is offered: every read tool, act tools only while the turn is the maintainer's own. */
  offered(registry: ToolRegistry, proposer: Tool | undefined): Tool[] {
    const tools = registry.offered({ allowActs: !this.thirdParty });
    return this.thirdParty && proposer ? [...tools, proposer] : tools;
  }
}

export const PROPOSE_TOOL = "propose_change";
/** How long a proposal waits for the maintainer. */
const PROPOSAL_TTL_MS = 15 * 60_000;
/** Proposals kept at once (the oldest goes first). */
const MAX_PROPOSALS = 200;
const SUMMARY_CHARS = 600;

interface Proposal {
  readonly id: string;
  readonly tool: Tool;
  readonly input: Record<string, unknown>;
  readonly author: string;
  readonly conversation: string;
  readonly expires: number;
  readonly summary: string;
}

/**
 * Changes proposed in third-party turns, waiting for the maintainer. A proposal is bound to the
 * maintainer who asked and to the conversation, used once, and expires. The id is random and never
 * shown to the model, so no text the model writes can name a real one.
 */
export class Proposals {
  private readonly byId = new Map<string, Proposal>();

  /** The `propose_change` tool for one turn; proposals it makes are pushed onto `made`. */
  toolFor(registry: ToolRegistry, message: IncomingMessage, now: () => Date, made: ConfirmationRequest[]): Tool | undefined {
    const acts = registry.acts;
    const [first, ...rest] = acts.map((tool) => tool.name);
    if (first === undefined || message.origin === "internal") return undefined;
    return defineTool({
      name: PROPOSE_TOOL,
      description:
        "This turn holds third-party text, so you cannot change anything yourself. To suggest a change, propose one call " +
        `of ${acts.map((t) => t.name).join(", ")} with its exact input: the maintainer is shown it and only their own ` +
        "confirmation runs it, exactly as proposed. Say in your answer what it does and why.",
      input: z.strictObject({
        tool: z.enum([first, ...rest]).describe("The act tool to run once the maintainer confirms."),
        input: z.record(z.string(), z.unknown()).describe("Its input, exactly as it should run."),
      }),
      kind: "read",
      output: "own",
      run: async ({ tool: name, input }): Promise<ToolResult> => {
        const tool = registry.get(name);
        if (!tool) return { text: `There is no tool named ${name}.`, isError: true };
        const problems = tool.check(input);
        if (problems) return { text: `Invalid input for ${name}: ${problems}.`, isError: true };
        const proposal = this.add(tool, input, message, now());
        made.push({ id: proposal.id, summary: proposal.summary });
        return { text: `Proposed. The maintainer is asked to confirm ${name} as shown; nothing has run. Tell them what it does.` };
      },
    });
  }

  private add(tool: Tool, input: Record<string, unknown>, message: IncomingMessage, now: Date): Proposal {
    this.expire(now);
    while (this.byId.size >= MAX_PROPOSALS) {
      const oldest = this.byId.keys().next().value;
      if (oldest === undefined) break;
      this.byId.delete(oldest);
    }
    const shown = JSON.stringify(input);
    const proposal: Proposal = {
      id: randomBytes(4).toString("hex"),
      tool,
      input,
      author: message.author.id,
      conversation: message.conversation,
      expires: now.getTime() + PROPOSAL_TTL_MS,
      summary: `${tool.name} ${shown.length > SUMMARY_CHARS ? `${shown.slice(0, SUMMARY_CHARS)}… (${shown.length} characters)` : shown}`,
    };
    this.byId.set(proposal.id, proposal);
    return proposal;
  }

  /** Takes the proposal `id` if `message`'s author made it in this conversation and it has not expired. */
  take(id: string, message: IncomingMessage, now: Date): Proposal | undefined {
    this.expire(now);
    const proposal = this.byId.get(id);
    if (!proposal || proposal.author !== message.author.id || proposal.conversation !== message.conversation) return undefined;
    this.byId.delete(id);
    return proposal;
  }

  private expire(now: Date): void {
    for (const [id, proposal] of this.byId) if (proposal.expires <= now.getTime()) this.byId.delete(id);
  }
}

/** The lines a reply carries for its proposals: what would run and how to confirm it. */
export function confirmationText(requests: readonly ConfirmationRequest[]): string {
  return requests
    .map((r) => `Needs your confirmation: ${r.summary}\nReply \`confirm ${r.id}\` to run exactly this, or \`cancel ${r.id}\`.`)
    .join("\n");
}

/** `confirm <id>` / `cancel <id>` as a maintainer's whole message. */
export function parseConfirmation(text: string): { id: string; accept: boolean } | undefined {
  const match = /^\s*(confirm|cancel)\s+([0-9a-f]{8})\s*$/i.exec(text);
  return match ? { accept: match[1]?.toLowerCase() === "confirm", id: (match[2] ?? "").toLowerCase() } : undefined;
}
