import { z } from "zod";
import type { ToolContext, ToolKind, ToolOutput, ToolResult, ToolSpec } from "./types.ts";

/** A tool as the brain holds it: its JSON Schema, its kind, and a run that validates first. */
export interface Tool {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the input (an object), generated from the zod schema. */
  readonly inputSchema: { readonly type: "object"; readonly [key: string]: unknown };
  readonly kind: ToolKind;
  readonly output: ToolOutput;
  /** The problems with `input` as one line, or undefined when it is valid. */
  check(input: unknown): string | undefined;
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
  const kind: ToolKind = "kind" in spec ? spec.kind : spec.mutates ? "act" : "read";
  // Unless a tool says its output is its own, it is third party: the safe guess for a new tool.
  const output: ToolOutput = "kind" in spec ? (spec.output ?? "third-party") : "third-party";
  const check = (input: unknown): string | undefined => {
    const parsed = spec.input.safeParse(input);
    if (parsed.success) return undefined;
    return parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(input)"}: ${i.message}`).join("; ");
  };
  return {
    name: spec.name,
    description: spec.description,
    inputSchema: { type, ...schema },
    kind,
    output,
    check,
    async execute(input, context) {
      const parsed = spec.input.safeParse(input);
      if (!parsed.success) return { text: `Invalid input for ${spec.name}: ${check(input) ?? "invalid"}.`, isError: true };
      return spec.run(parsed.data, context);
    },
  };
}

/** Which tools a turn may see. */
export interface ToolPolicy {
  /** False for internal messages and once third-party text is in the turn. */
  readonly allowActs: boolean;
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

  /** The act tools, whatever a turn is offered (what a confirmation may run). */
  get acts(): Tool[] {
    return [...this.tools.values()].filter((tool) => tool.kind === "act");
  }

  offered(policy: ToolPolicy): Tool[] {
    return [...this.tools.values()].filter((tool) => policy.allowActs || tool.kind === "read");
  }
}
