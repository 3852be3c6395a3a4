import { z } from "zod";
import { formatStatus } from "../status.ts";
import { defineTool, type Tool } from "./registry.ts";

export const statusTool: Tool = defineTool({
  name: "status",
  description: "This instance's name, version, uptime, and which integrations are configured or offline.",
  input: z.strictObject({}),
  kind: "read",
  output: "own",
  async run(_input, { status, now }) {
    return { text: formatStatus(status(), now()) };
  },
});
