import { parseCommandLine, UsageError, type CliCommand } from "../io.ts";

export const OPTIONS = { repo: { type: "string" }, config: { type: "string" } } as const;

const USAGE = 'clawdinator code "REQUEST" [--repo NAME|DIR] [--config FILE]';

/** `clawdinator code "<request>" [--repo NAME|DIR] [--config FILE]`: one coding task, printed as it would be posted. */
export const command: CliCommand = {
  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, { options: OPTIONS, maxPositionals: 1_000, usage: USAGE });
    const request = positionals.join(" ").trim();
    if (request === "") throw new UsageError('say what to do: clawdinator code "add a test for split" --repo self');
    const { runCodeOnce } = await import("../../agent/coding/once.ts");
    return runCodeOnce({ request, repo: values.repo, configPath: values.config }, io);
  },
};
