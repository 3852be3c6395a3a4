import { runAgent } from "../../agent/main.ts";
import { parseOptions, type CliCommand } from "../io.ts";

/** `clawdinator run [--config FILE]`: the agent, on Discord when a token is set, on this terminal otherwise. */
export const command: CliCommand = {
  async run(args, io) {
    const { options } = parseOptions(args, ["config"]);
    await runAgent({ configPath: options.get("config") }, io);
    return 0;
  },
};
