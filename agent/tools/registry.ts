import { z } from "zod";
import type { ToolContext, ToolResult, ToolSpec } from "./types.ts";

/** A tool as the brain holds it: its JSON Schema, its flags, and a run that validates first. */
export interface Tool {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the input (an object), generated from the zod schema. */
  readonly inputSchema: { readonly type: "object"; readonly [key: string]: unknown };
  readonly mutates: boolean;
  readonly thirdPartyOutput: boolean;
  /** Validates `input` and runs the tool; invalid input is an error result naming the fields, not a throw. */
  execute(input: unknown, context: ToolContext): Promise<ToolResult>;
}

/** A tool definition was rejected at start-up (a programming error, not a user one). */
export class ToolDefinitionError extends Error {
  override readonly name = "ToolDefinitionError";
  readonly tool: string;

  constructor(tool: string, problem: string) {
    super(`tool "${tool}": ${problem}`);
    this.tool = tool;
  }
}

const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;

export function defineTool<Input>(spec: ToolSpec<Input>): Tool {
  if (!TOOL_NAME.test(spec.name)) throw new ToolDefinitionError(spec.name, "name must be snake_case, at most 64 characters");
  const { $schema: _ignored, type, ...schema } = z.toJSONSchema(spec.input, { io: "input" });
  if (type !== "object") throw new ToolDefinitionError(spec.name, "input must be a zod object schema");
  return {
    name: spec.name,
    description: spec.description,
    inputSchema: { type, ...schema },
    mutates: spec.mutates,
    thirdPartyOutput: spec.thirdPartyOutput ?? false,
    async execute(input, context) {
      const parsed = spec.input.safeParse(input);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(input)"}: ${i.message}`);
        return { text: `Invalid input for ${spec.name}: ${problems.join("; ")}.`, isError: true };
      }
      return spec.run(parsed.data, context);
    },
  };
}

/** Which tools a turn may see. */
export interface ToolPolicy {
  /** False for internal messages and after third-party text entered the turn. */
  readonly allowMutating: boolean;
}

/** The tools the agent has, and which of them a given turn is offered. */
export class ToolRegistry {
  private readonly tools: ReadonlyMap<string, Tool>;

  constructor(tools: readonly Tool[]) {
    const byName = new Map<string, Tool>();
    for (const tool of tools) {
      if (byName.has(tool.name)) throw new ToolDefinitionError(tool.name, "defined twice");
      byName.set(tool.name, tool);
    }
    this.tools = byName;
  }

  get names(): string[] {
    return [...this.tools.keys()];
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  offered(policy: ToolPolicy): Tool[] {
    return [...this.tools.values()].filter((tool) => policy.allowMutating || !tool.mutates);
  }
}
