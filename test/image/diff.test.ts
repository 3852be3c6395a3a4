// Acceptance: an identity change makes diff say "replace"; the same identity says nothing (or an
// in-place update for tags); and a preview (check + diff) has no side effect at all.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { nixosAmiProvider } from "../../providers/nixos-ami/provider.ts";
import type { NixosAmiState } from "../../providers/nixos-ami/types.ts";
import { startWorld, type World } from "./harness.ts";

describe("diff and preview", () => {
  let world: World;
  let state: NixosAmiState;

  before(async () => {
    world = await startWorld({ seed: "before-change", sizeMiB: 2, dataMiB: 2, s3: false });
    const checked = await nixosAmiProvider.check({}, world.inputs());
    state = (await nixosAmiProvider.create(checked.inputs ?? {})).outs as NixosAmiState;
  });
  after(() => world.close());

  /** What Pulumi runs for a preview: check, then diff. Returns the diff and every side effect seen. */
  async function preview(overrides: Record<string, unknown> = {}) {
    const ec2Before = world.ec2.calls.length;
    const s3Before = world.s3.requests.length;
    const nixBefore = (await world.nix.commands()).length;
    const checked = await nixosAmiProvider.check(state as unknown as Record<string, unknown>, world.inputs(overrides));
    assert.deepEqual(checked.failures, []);
    const result = await nixosAmiProvider.diff(state.amiId, state, checked.inputs ?? {});
    return {
      result,
      ec2Calls: world.ec2.calls.slice(ec2Before),
      s3Requests: world.s3.requests.slice(s3Before),
      nixCommands: (await world.nix.commands()).slice(nixBefore),
    };
  }

  it("the same identity and inputs: no changes", async () => {
    const { result } = await preview();
    assert.equal(result.changes, false);
    assert.deepEqual(result.replaces, []);
  });

  it("a new identity (the closure moved): replace, and the preview built, uploaded and imported nothing", async () => {
    await world.nix.configure({ seed: "after-change", sizeMiB: 2, dataMiB: 2 });
    const snapshotsBefore = world.ec2.state.snapshots.size;
    const { result, ec2Calls, s3Requests, nixCommands } = await preview();
    assert.equal(result.changes, true);
    assert.deepEqual(result.replaces, ["identity"]);
    assert.deepEqual(ec2Calls, [], "no EC2 or EBS request during preview");
    assert.deepEqual(s3Requests, [], "no S3 request during preview");
    assert.deepEqual(nixCommands, ["eval"], "nix only evaluated the identity");
    assert.equal(world.ec2.state.snapshots.size, snapshotsBefore);
    await world.nix.configure({ seed: "before-change", sizeMiB: 2, dataMiB: 2 });
  });

  it("a new region, architecture or boot mode replaces: an AMI cannot change those", async () => {
    assert.deepEqual((await preview({ bootMode: "legacy-bios" })).result.replaces, ["bootMode"]);
    assert.deepEqual((await preview({ region: "us-west-2" })).result.replaces, ["region"]);
  });

  it("tags, retention or the import method change in place, without replacing", async () => {
    for (const overrides of [{ tags: { project: "clawdinators", team: "ops" } }, { keep: 5 }, { importMethod: "vm-import" }]) {
      const { result } = await preview(overrides);
      assert.equal(result.changes, true, JSON.stringify(overrides));
      assert.deepEqual(result.replaces, [], JSON.stringify(overrides));
    }
  });

  it("update retags the AMI and its snapshot and keeps the outputs", async () => {
    const checked = await nixosAmiProvider.check(state as unknown as Record<string, unknown>, world.inputs({ tags: { project: "clawdinators", team: "ops" } }));
    const updated = await nixosAmiProvider.update(state.amiId, state, checked.inputs ?? {});
    const outs = updated.outs as NixosAmiState;
    assert.equal(outs.amiId, state.amiId);
    assert.equal(outs.identity, state.identity);
    for (const tags of [world.ec2.state.images.get(state.amiId)?.tags, world.ec2.state.snapshots.get(state.snapshotId)?.tags]) {
      assert.equal(tags?.get("team"), "ops");
      assert.equal(tags?.get("project"), "clawdinators");
      assert.equal(tags?.get("clawdinator:identity"), state.identity, "the pipeline's own tags stay");
    }
  });

  it("update removes a tag dropped from the inputs from the AMI and its snapshot (DeleteTags)", async () => {
    const withTeam = await nixosAmiProvider.check(state as unknown as Record<string, unknown>, world.inputs({ tags: { project: "clawdinators", team: "ops" } }));
    const tagged = (await nixosAmiProvider.update(state.amiId, state, withTeam.inputs ?? {})).outs as NixosAmiState;
    const withoutTeam = await nixosAmiProvider.check(tagged as unknown as Record<string, unknown>, world.inputs());
    await nixosAmiProvider.update(state.amiId, tagged, withoutTeam.inputs ?? {});
    assert.equal(world.ec2.count("DeleteTags"), 1);
    for (const tags of [world.ec2.state.images.get(state.amiId)?.tags, world.ec2.state.snapshots.get(state.snapshotId)?.tags]) {
      assert.equal(tags?.has("team"), false, "the dropped tag is gone");
      assert.equal(tags?.get("project"), "clawdinators");
      assert.equal(tags?.get("clawdinator:identity"), state.identity, "the pipeline's own tags stay");
    }
  });

  it("a prebuilt image: its SHA-256 is the identity", async () => {
    const { writeFile } = await import("node:fs/promises");
    const imagePath = `${world.dir}/prebuilt.raw`;
    await writeFile(imagePath, Buffer.alloc(1024, 7));
    const checked = await nixosAmiProvider.check({}, world.inputs({ flake: undefined, nixosConfiguration: undefined, imagePath }));
    const result = await nixosAmiProvider.diff(state.amiId, state, checked.inputs ?? {});
    assert.deepEqual(result.replaces, ["identity"]);
  });
});
