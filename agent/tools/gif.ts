import { z } from "zod";
import { GIF_MOODS, pickGif } from "../gifs.ts";
import { defineTool, type Tool } from "./registry.ts";

export const postGif: Tool = defineTool({
  name: "post_gif",
  description: `Attach one Arnie gif for a mood to your reply (at most one per reply). Moods: ${GIF_MOODS.join(", ")}.`,
  input: z.strictObject({ mood: z.enum(GIF_MOODS) }),
  kind: "read",
  output: "own",
  async run({ mood }, { random, attachments }) {
    if (attachments.length > 0) return { text: "A gif is already attached to this reply; one is enough.", isError: true };
    const link = pickGif(mood, random);
    return { text: `A ${mood} gif will be posted after your reply.`, attachment: link };
  },
});
