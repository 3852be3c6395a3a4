import type { Command } from "../commands/types.ts";
import type { Reply } from "../transport/types.ts";
import { CodingTargetError, type CodingService } from "./service.ts";

export const CODE_USAGE = "code [--repo NAME] REQUEST";

/**
 * The `code` built-in: runs a coding task straight from a maintainer's message and posts the
 * report with the diff attached, without the voice model in between. Like every command it runs
 * only after the access rules let the message through (maintainers only); a scheduled or internal
 * message cannot start one. Without an OpenAI key (`coding` undefined) it says what to configure.
 */
export function codeCommand(coding: CodingService | undefined, notConfigured: string): Command {
  return {
    name: "code",
    usage: CODE_USAGE,
    summary: "have the coding model write and run code in a sandbox; the diff comes back as a file",
    argument: { name: "request", description: "what to build or change (start with --repo NAME to pick a repository)" },
    async run(args, { message }): Promise<Reply> {
      if (message.origin === "internal") return { text: "Coding tasks run only for a maintainer's own message." };
      if (!coding) return { text: notConfigured };
      const { target, request } = parseCodeArgs(args);
      if (request === "") return { text: `usage: ${CODE_USAGE} (targets: ${coding.targets.join(", ")})` };
      try {
        const report = await coding.run(request, target, message.author.id);
        return { text: report.text, files: report.files };
      } catch (error) {
        if (error instanceof CodingTargetError) return { text: error.message };
        throw error;
      }
    },
  };
}

/** `--repo NAME` (or `--repo=NAME`) anywhere before the request's first word; the rest is the request. */
export function parseCodeArgs(args: readonly string[]): { target: string | undefined; request: string } {
  const rest = [...args];
  let target: string | undefined;
  const first = rest[0] ?? "";
  if (first === "--repo" || first === "--target") {
    target = rest[1];
    rest.splice(0, 2);
  } else if (/^--(repo|target)=/.test(first)) {
    target = first.slice(first.indexOf("=") + 1);
    rest.splice(0, 1);
  }
  return { target, request: rest.join(" ").trim() };
}
