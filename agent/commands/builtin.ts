import { GIF_MOODS, isGifMood, pickGif } from "../gifs.ts";
import { formatStatus } from "../status.ts";
import type { Command } from "./types.ts";

export const help: Command = {
  name: "help",
  usage: "help",
  summary: "what I can do",
  async run(_args, { commands, status }) {
    const width = Math.max(...commands.map((c) => c.usage.length));
    const lines = commands.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`);
    return {
      text: [`I am ${status().instance}. Commands:`, ...lines, "Anything else goes to my model, if one is configured."].join(
        "\n",
      ),
    };
  },
};

export const status: Command = {
  name: "status",
  usage: "status",
  summary: "instance, version, uptime and which integrations are configured or offline",
  async run(_args, context) {
    return { text: formatStatus(context.status(), context.now()) };
  },
};

export const gif: Command = {
  name: "gif",
  usage: `gif [${GIF_MOODS.join("|")}]`,
  summary: "an Arnie gif for the mood",
  argument: { name: "mood", description: "which mood (default: greeting)", choices: GIF_MOODS },
  async run(args, { random }) {
    const requested = args[0]?.toLowerCase() ?? "greeting";
    if (!isGifMood(requested)) return { text: `No gif for "${requested}". Moods: ${GIF_MOODS.join(", ")}.` };
    return { text: pickGif(requested, random) };
  },
};

export const BUILTIN_COMMANDS: readonly Command[] = [help, status, gif];
