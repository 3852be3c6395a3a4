// Acceptance: delete is idempotent (AMI, snapshot and S3 object gone; a second delete is fine), and
// retention removes the oldest images beyond the keep count, with their snapshots and objects.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { nixosAmiProvider } from "../../providers/nixos-ami/provider.ts";
import type { NixosAmiState } from "../../providers/nixos-ami/types.ts";
import { startWorld, type World } from "./harness.ts";

async function createImage(world: World, seed: string, overrides: Record<string, unknown> = {}): Promise<NixosAmiState> {
  await world.nix.configure({ seed, sizeMiB: 2, dataMiB: 2 });
  const checked = await nixosAmiProvider.check({}, world.inputs({ importMethod: "vm-import", ...overrides }));
  return (await nixosAmiProvider.create(checked.inputs ?? {})).outs as NixosAmiState;
}

describe("delete", () => {
  let world: World;
  before(async () => {
    world = await startWorld({ seed: "delete", sizeMiB: 2, dataMiB: 2 });
  });
  after(() => world.close());

  it("removes the AMI, its snapshot and the S3 object; deleting again is fine", async () => {
    const outs = await createImage(world, "delete");
    assert.deepEqual(await world.objectKeys(), [outs.s3Key]);
    await nixosAmiProvider.delete(outs.amiId, outs);
    assert.deepEqual(world.liveImages(), []);
    assert.equal(world.ec2.state.snapshots.has(outs.snapshotId), false);
    assert.deepEqual(await world.objectKeys(), []);
    const deregisters = world.ec2.count("DeregisterImage");
    await nixosAmiProvider.delete(outs.amiId, outs);
    assert.equal(world.ec2.count("DeregisterImage"), deregisters + 1, "the second delete did ask, and took not-found as done");
  });

  it("refresh (read) of a deleted image reports it gone", async () => {
    const outs = await createImage(world, "read");
    const read = await nixosAmiProvider.read(outs.amiId, outs);
    assert.equal(read.id, outs.amiId);
    await nixosAmiProvider.delete(outs.amiId, outs);
    const gone = await nixosAmiProvider.read(outs.amiId, outs);
    assert.equal(gone.id, undefined);
  });
});

describe("retention", () => {
  let world: World;
  before(async () => {
    world = await startWorld({ seed: "r0", sizeMiB: 2, dataMiB: 2 });
  });
  after(() => world.close());

  it("keeps the current image and the newest `keep` older ones; removes the rest with their parts", async () => {
    const made: NixosAmiState[] = [];
    for (const seed of ["r1", "r2", "r3", "r4"]) made.push(await createImage(world, seed, { keep: 1, namePrefix: "kept" }));
    // Another prefix is another family of images: never touched by this one's retention.
    const other = await createImage(world, "other", { keep: 0, namePrefix: "other" });
    const [first, second, third, fourth] = made;
    assert.ok(first && second && third && fourth);
    assert.deepEqual(world.liveImages().sort(), [third.amiId, fourth.amiId, other.amiId].sort());
    for (const gone of [first, second]) {
      assert.equal(world.ec2.state.snapshots.has(gone.snapshotId), false, `${gone.snapshotId} deleted`);
    }
    assert.deepEqual(await world.objectKeys(), [third.s3Key, fourth.s3Key, other.s3Key].sort());
  });

  it("a lower keep applied by update removes more", async () => {
    const current = await createImage(world, "r4", { keep: 1, namePrefix: "kept" });
    const checked = await nixosAmiProvider.check({}, world.inputs({ importMethod: "vm-import", keep: 0, namePrefix: "kept" }));
    await nixosAmiProvider.update(current.amiId, current, checked.inputs ?? {});
    assert.ok(world.liveImages().includes(current.amiId), "the current image stays whatever keep says");
    assert.equal(world.liveImages().filter((id) => world.ec2.state.images.get(id)?.name.startsWith("kept-")).length, 1);
  });
});
