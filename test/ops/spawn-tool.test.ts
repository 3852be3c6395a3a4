// The model's fleet_spawn tool: an act offered only where write tools are (never for internal
// messages or after third-party text), and acting only on the maintainer's own confirmation.
import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { commandSpawner, confirmationPhrase, fleetSpawnTool, type Spawner } from "../../agent/ops/spawn-tool.ts";
import { ToolRegistry } from "../../agent/tools/registry.ts";
import type { ToolContext } from "../../agent/tools/types.ts";
import type { IncomingMessage } from "../../agent/transport/types.ts";
import { withTempDir } from "../helpers/cli.ts";

function context(text: string, origin: IncomingMessage["origin"] = "guild"): ToolContext {
  return {
    message: { id: "m1", text, author: { id: "123", name: "maintainer", roleIds: [] }, conversation: "c", origin, addressed: true, receivedAt: new Date() },
    memory: {} as ToolContext["memory"],
    status: () => {
      throw new Error("not used");
    },
    now: () => new Date(),
    random: () => 0,
    attachments: [],
  };
}

function recordingSpawner(): Spawner & { calls: Array<[number, boolean]> } {
  const calls: Array<[number, boolean]> = [];
  return {
    calls,
    async spawn(number, { replace }) {
      calls.push([number, replace]);
      return { ok: true, output: "Resources: + 14 created\nCLAWDINATOR-3: pulumi up succeeded, health gate passed." };
    },
  };
}

describe("the fleet_spawn tool", () => {
  it("is an act: offered only where write tools are (a maintainer's own turn, no third-party text yet)", () => {
    const registry = new ToolRegistry([fleetSpawnTool(recordingSpawner())]);
    assert.deepEqual(registry.offered({ allowActs: true }).map((t) => t.name), ["fleet_spawn"]);
    assert.deepEqual(registry.offered({ allowActs: false }), []);
  });

  it("deploys nothing on the request alone: it returns the exact words the maintainer must send", async () => {
    const spawner = recordingSpawner();
    const result = await fleetSpawnTool(spawner).execute({ number: 3 }, context("please spawn CLAWDINATOR-3"));
    assert.deepEqual(spawner.calls, []);
    assert.match(result.text, /Nothing deployed yet\. .*sending exactly: confirm spawn CLAWDINATOR-3$/);
    assert.notEqual(result.isError, true);
  });

  it("deploys once the maintainer's own message carries the confirmation, for that number only", async () => {
    const spawner = recordingSpawner();
    const tool = fleetSpawnTool(spawner);
    const wrong = await tool.execute({ number: 4 }, context(confirmationPhrase(3)));
    assert.match(wrong.text, /Nothing deployed yet/);
    const result = await tool.execute({ number: 3 }, context(`yes, ${confirmationPhrase(3)}`));
    assert.deepEqual(spawner.calls, [[3, false]]);
    assert.match(result.text, /^CLAWDINATOR-3 deployed and healthy\.\n[\s\S]*health gate passed/);
  });

  it("is refused for internal (scheduled) messages even with the phrase", async () => {
    const spawner = recordingSpawner();
    const result = await fleetSpawnTool(spawner).execute({ number: 3 }, context(confirmationPhrase(3), "internal"));
    assert.equal(result.isError, true);
    assert.deepEqual(spawner.calls, []);
  });

  it("rejects a bad number before anything runs", async () => {
    const spawner = recordingSpawner();
    const result = await fleetSpawnTool(spawner).execute({ number: 0 }, context(confirmationPhrase(0)));
    assert.equal(result.isError, true);
    assert.match(result.text, /Invalid input for fleet_spawn: number/);
    assert.deepEqual(spawner.calls, []);
  });

  it("the command spawner runs `<cli> fleet spawn <n> [--replace]` in the project folder and reports failure", async () => {
    await withTempDir(async (dir) => {
      const script = path.join(dir, "cli.sh");
      await writeFile(script, `#!/bin/sh\necho "$PWD $*" > ${JSON.stringify(path.join(dir, "args"))}\necho "pulumi up failed: CLAWDINATOR-3 did not report healthy" >&2\nexit 1\n`);
      await chmod(script, 0o755);
      const spawner = commandSpawner({ projectDir: dir, command: [script] });
      const result = await spawner.spawn(3, { replace: true });
      assert.equal(result.ok, false);
      assert.match(result.output, /did not report healthy/);
      assert.equal((await readFile(path.join(dir, "args"), "utf8")).trim(), `${dir} fleet spawn 3 --replace`);
    });
  });
});
