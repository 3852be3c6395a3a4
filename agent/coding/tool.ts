import { z } from "zod";
import { defineTool, type Tool } from "../tools/registry.ts";
import { CodingTargetError, type CodingService } from "./service.ts";

/**
 * `code_task` for the Claude brain: hands a maintainer's coding request to the coding model and
 * its sandbox. An act tool (`mutates`): offered only for a maintainer's own message, never for an
 * internal one, and withdrawn once third-party text entered the turn. Its own result carries the
 * sandbox's output and the coding model's summary, so it counts as third-party text: it comes
 * back fenced as data, and no further act tool is offered in that turn.
 */
export function codeTaskTool(coding: CodingService): Tool {
  return defineTool({
    name: "code_task",
    description:
      "Have the coding model write and run code for the maintainer in a sandbox (no network, no secrets) on a copy of a repository, " +
      "your workspace docs, or the hive-mind memory. Only when a maintainer asked for code or a change. The report (summary, exit code, " +
      `output) comes back as data and the diff is attached to your reply. Targets: ${coding.targets.join(", ")}.`,
    input: z.strictObject({
      request: z.string().min(1).max(8_000).describe("The maintainer's request, complete and self-contained."),
      target: z.string().min(1).max(64).optional().describe(`Where to work: ${coding.targets.join(", ")}; omit for the default.`),
    }),
    mutates: true,
    thirdPartyOutput: true,
    async run({ request, target }, { message }) {
      try {
        const report = await coding.run(request, target, message.author.id);
        return { text: report.text, dataSource: "coding task report (sandbox output, coding model summary)", files: report.files };
      } catch (error) {
        if (error instanceof CodingTargetError) return { text: error.message, isError: true };
        throw error;
      }
    },
  });
}
