import { postGif } from "./gif.ts";
import { memoryAppend, memoryList, memoryRead, memoryWrite } from "./memory.ts";
import { ToolRegistry, type Tool } from "./registry.ts";
import { statusTool } from "./status.ts";

/** Every tool the brain has today; GitHub look-ups join here (`kind: "read"`, output third party by default). */
export const BUILTIN_TOOLS: readonly Tool[] = [memoryRead, memoryList, memoryWrite, memoryAppend, postGif, statusTool];

export function builtinToolRegistry(extra: readonly Tool[] = []): ToolRegistry {
  return new ToolRegistry([...BUILTIN_TOOLS, ...extra]);
}
