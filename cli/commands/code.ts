import { parseOptions, UsageError, type CliCommand } from "../io.ts";

/** `clawdinator code "<request>" [--repo NAME|DIR] [--config FILE]`: one coding task, printed as it would be posted. */
export const command: CliCommand = {
  async run(args, io) {
    const { options, positional } = parseOptions(args, ["repo", "config"]);
    const request = positional.join(" ").trim();
    if (request === "") throw new UsageError('say what to do: clawdinator code "add a test for split" --repo self');
    const { runCodeOnce } = await import("../../agent/coding/once.ts");
    return runCodeOnce({ request, repo: options.get("repo"), configPath: options.get("config") }, io);
  },
};
