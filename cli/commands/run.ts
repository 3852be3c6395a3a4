import { parseCommandLine, type CliCommand } from "../io.ts";

export const OPTIONS = { config: { type: "string" } } as const;

/** `clawdinator run [--config FILE]`: the agent, on Discord when a token is set, on this terminal otherwise. */
export const command: CliCommand = {
  async run(args, io) {
    const { values } = parseCommandLine(args, { options: OPTIONS });
    // Loaded here, not at the top: the entry imports this module for `run --help` too.
    const { runAgent } = await import("../../agent/main.ts");
    await runAgent({ configPath: values.config, ...(io.logLevel === undefined ? {} : { logLevel: io.logLevel }) }, io);
    return 0;
  },
};
