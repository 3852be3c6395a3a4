// Acceptance: a failed import is a clear error quoting AWS's StatusMessage and leaves nothing behind;
// so does a failed EBS-direct write; a missing or failing nix says what to do, with the log's tail.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ImagePipelineError } from "../../providers/nixos-ami/errors.ts";
import { nixosAmiProvider } from "../../providers/nixos-ami/provider.ts";
import type { NixosAmiState } from "../../providers/nixos-ami/types.ts";
import { startWorld, type World } from "./harness.ts";

const AWS_MESSAGE = "ClientError: Disk validation failed [We do not have access to the given resource. Reason 403 Forbidden]";

async function createWith(world: World, overrides: Record<string, unknown>) {
  const checked = await nixosAmiProvider.check({}, world.inputs(overrides));
  assert.deepEqual(checked.failures, []);
  return nixosAmiProvider.create(checked.inputs ?? {});
}

describe("failures", () => {
  let world: World;
  before(async () => {
    world = await startWorld({ seed: "failures", sizeMiB: 2, dataMiB: 2 });
  });
  after(() => world.close());

  it("a failed VM Import: error with AWS's message, no snapshot, no S3 object, no AMI", async () => {
    world.ec2.faults.failImport(AWS_MESSAGE);
    await assert.rejects(createWith(world, { importMethod: "vm-import" }), (error: unknown) => {
      assert.ok(error instanceof ImagePipelineError);
      assert.equal(error.code, "IMPORT_FAILED");
      assert.ok(error.message.includes(AWS_MESSAGE), error.message);
      assert.match(error.message, /import-snap-[0-9a-f]{17}/, "names the task");
      return true;
    });
    assert.equal(world.ec2.state.snapshots.size, 0);
    assert.deepEqual(world.liveImages(), []);
    assert.deepEqual(await world.objectKeys(), []);
    assert.match([...world.ec2.state.importTasks.values()][0]?.status ?? "", /^deleting|deleted$/);
  });

  it("the next run imports again under a new token and succeeds", async () => {
    const created = await createWith(world, { importMethod: "vm-import" });
    const outs = created.outs as NixosAmiState;
    const tokens = [...world.ec2.state.importTasks.values()].map((task) => task.clientToken);
    assert.equal(new Set(tokens).size, 2, "a dead task's token is not reused");
    assert.equal(world.ec2.state.images.get(outs.amiId)?.state, "available");
    await nixosAmiProvider.delete(outs.amiId, outs);
  });

  it("a failed EBS-direct write deletes its snapshot", async () => {
    await world.nix.configure({ seed: "ebs-fails", sizeMiB: 2, dataMiB: 2 });
    world.ec2.faults.rejectBlockWritesFor(60_000);
    await assert.rejects(createWith(world, { importMethod: "ebs-direct", tuning: { blockAttempts: 2, retryBaseMs: 1 } }), (error: unknown) => {
      assert.ok(error instanceof ImagePipelineError);
      assert.equal(error.code, "EBS_WRITE_FAILED");
      assert.match(error.message, /snap-[0-9a-f]{17} failed, the snapshot was deleted: .*does not exist/);
      return true;
    });
    world.ec2.faults.rejectBlockWritesFor(0);
    const started = world.ec2.count("StartSnapshot");
    assert.equal(started, 1);
    assert.deepEqual([...world.ec2.state.snapshots.values()].map((s) => [s.snapshotId, s.origin, s.state]), [], "the snapshot was deleted");
    assert.deepEqual(world.liveImages(), []);
  });

  it("nix missing: says to install it or set nixBinary", async () => {
    await assert.rejects(createWith(world, { nixBinary: `${world.dir}/no-such-nix` }), (error: unknown) => {
      assert.ok(error instanceof ImagePipelineError);
      assert.equal(error.code, "NIX_MISSING");
      assert.match(error.message, /nixBinary/);
      return true;
    });
  });

  it("a failing build: the error carries the tail of the build log", async () => {
    await world.nix.configure({ seed: "broken", failBuild: true });
    await assert.rejects(createWith(world, {}), (error: unknown) => {
      assert.ok(error instanceof ImagePipelineError);
      assert.equal(error.code, "NIX_FAILED");
      assert.match(error.message, /builder for .* failed with exit code 1/);
      assert.match(error.message, /step-50/);
      assert.doesNotMatch(error.message, /step-1\.drv/, "only the tail, not the whole log");
      return true;
    });
  });

  it("bad inputs fail check with the property and the fix", async () => {
    const checked = await nixosAmiProvider.check({}, { bucket: "b", region: "eu-central-1", importMethod: "scp", keep: -1 });
    const byProperty = new Map(checked.failures?.map((failure) => [failure.property, failure.reason]));
    assert.match(byProperty.get("flake") ?? "", /imagePath/);
    assert.match(byProperty.get("importMethod") ?? "", /"ebs-direct", "vm-import"/);
    assert.match(byProperty.get("keep") ?? "", /≥ 0/);
  });
});
