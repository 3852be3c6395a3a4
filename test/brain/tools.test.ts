import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { BUILTIN_TOOLS, builtinToolRegistry } from "../../agent/tools/index.ts";
import { defineTool, ToolDefinitionError, ToolRegistry } from "../../agent/tools/registry.ts";

const noop = async (): Promise<{ text: string }> => ({ text: "" });

describe("the tool registry", () => {
  it("offers write tools only when the policy allows them", () => {
    const registry = builtinToolRegistry();
    const all = registry.offered({ allowActs: true }).map((t) => t.name);
    const readOnly = registry.offered({ allowActs: false }).map((t) => t.name);
    assert.deepEqual(all.sort(), ["memory_append", "memory_list", "memory_read", "memory_write", "post_gif", "status"]);
    assert.deepEqual(readOnly.sort(), ["memory_list", "memory_read", "post_gif", "status"]);
    assert.deepEqual(
      BUILTIN_TOOLS.filter((t) => t.kind === "act").map((t) => t.name).sort(),
      ["memory_append", "memory_write"],
    );
  });

  it("gives the model each tool's input as a JSON Schema object, from its zod schema", () => {
    const read = builtinToolRegistry().get("memory_read");
    assert.deepEqual(read?.inputSchema.required, ["path"]);
    assert.equal(read?.inputSchema.additionalProperties, false);
    assert.ok(!("$schema" in (read?.inputSchema ?? {})));
  });

  it("refuses a bad name, a non-object input and a duplicate at definition time", () => {
    assert.throws(() => defineTool({ name: "Memory-Read", description: "", input: z.strictObject({}), kind: "read", run: noop }), ToolDefinitionError);
    assert.throws(() => defineTool({ name: "scalar", description: "", input: z.string(), kind: "read", run: noop }), ToolDefinitionError);
    const tool = defineTool({ name: "twice", description: "", input: z.strictObject({}), kind: "read", run: noop });
    assert.throws(() => new ToolRegistry([tool, tool]), (e: unknown) => e instanceof ToolDefinitionError && e.tool === "twice");
  });
});
