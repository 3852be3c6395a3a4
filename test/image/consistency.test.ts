// AWS's races and eventual consistency (issue 15): two creates of one image at once end on the
// AMI's real snapshot with nothing orphaned; NotFound right after a write is waited out for a
// bounded time; throttling past the SDK's attempts is retried with the phase logged, and when it
// never stops the error says where and what to do.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ImagePipelineError } from "../../providers/nixos-ami/errors.ts";
import { nixosAmiProvider } from "../../providers/nixos-ami/provider.ts";
import type { NixosAmiState } from "../../providers/nixos-ami/types.ts";
import { createClients, destroyClients, ensureImage, normalizeInputs, type ProgressEvent } from "../../providers/nixos-ami/steps.ts";
import { startWorld, type World } from "./harness.ts";

/** A sparse prebuilt raw image with random data in two places: its SHA-256 is its identity. */
async function prebuiltImage(world: World, name: string, sizeMiB = 8): Promise<string> {
  const file = path.join(world.dir, name);
  const handle = await open(file, "w");
  try {
    await handle.truncate(sizeMiB * 2 ** 20);
    await handle.write(randomBytes(2 ** 20), 0, 2 ** 20, 0);
    await handle.write(randomBytes(2 ** 20), 0, 2 ** 20, (sizeMiB - 2) * 2 ** 20);
  } finally {
    await handle.close();
  }
  return file;
}

/** Resource inputs for a prebuilt image (no nix), checked as the engine would. */
async function inputsFor(world: World, imagePath: string, overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const checked = await nixosAmiProvider.check({}, world.inputs({ flake: undefined, nixosConfiguration: undefined, imagePath, importMethod: "ebs-direct", ...overrides }));
  assert.deepEqual(checked.failures, []);
  return checked.inputs ?? {};
}

/** Runs the pipeline as the CLI does, collecting its progress events. */
async function ensureWithEvents(world: World, raw: Record<string, unknown>): Promise<{ outcome: Promise<unknown>; events: ProgressEvent[] }> {
  const { inputs, failures } = normalizeInputs(raw);
  assert.deepEqual(failures, []);
  const events: ProgressEvent[] = [];
  const clients = createClients(inputs.region, inputs.endpoints, inputs.tuning);
  const outcome = ensureImage(inputs, { clients, report: (event) => void events.push(event) }).finally(() => destroyClients(clients));
  return { outcome, events };
}

describe("two creates of the same image at once", () => {
  let world: World;
  before(async () => {
    world = await startWorld({ seed: "race", s3: false });
  });
  after(() => world.close());

  it("both end with the AMI's real snapshot; the loser deletes its own; delete leaves nothing behind", async () => {
    const imagePath = await prebuiltImage(world, "race.raw");
    const inputs = await inputsFor(world, imagePath);
    // Both runs looked for an AMI and a reusable snapshot before either started one, and both
    // reach RegisterImage: two operators, or a retried `pulumi up`, at the same moment.
    world.ec2.faults.barrier("StartSnapshot", 2);
    world.ec2.faults.barrier("RegisterImage", 2);
    const [first, second] = (await Promise.all([nixosAmiProvider.create(inputs), nixosAmiProvider.create(inputs)])).map((created) => created.outs as NixosAmiState);
    assert.ok(first && second);
    assert.equal(world.ec2.count("StartSnapshot"), 2, "two snapshots were written");
    assert.equal(world.ec2.count("RegisterImage"), 2, "both registered; one got InvalidAMIName.Duplicate");
    assert.equal(first.amiId, second.amiId, "one AMI");
    const image = world.ec2.state.images.get(first.amiId);
    const realSnapshot = image?.blockDeviceMappings[0]?.ebs?.snapshotId;
    assert.ok(realSnapshot);
    assert.equal(first.snapshotId, realSnapshot, "the winner records the AMI's snapshot");
    assert.equal(second.snapshotId, realSnapshot, "the loser records the AMI's snapshot, not its own");
    assert.deepEqual([...world.ec2.state.snapshots.keys()], [realSnapshot], "the loser's unused snapshot was deleted");

    // A later delete from either state removes the AMI and the snapshot it really used.
    await nixosAmiProvider.delete(second.amiId, second);
    assert.deepEqual(world.liveImages(), []);
    assert.equal(world.ec2.state.snapshots.size, 0, "nothing orphaned");
  });
});

describe("eventual consistency after a write", () => {
  let world: World;
  before(async () => {
    world = await startWorld({ seed: "consistency", s3: false });
  });
  after(() => world.close());

  it("NotFound for the next describes after CompleteSnapshot and RegisterImage is waited out, and logged with the phase", async () => {
    const imagePath = await prebuiltImage(world, "late.raw");
    // Filtered describes (no ids) are not hit: the fault meets the first describes by id, which are
    // the waits right after CompleteSnapshot, then right after RegisterImage.
    world.ec2.faults.notFound("DescribeSnapshots", 2);
    world.ec2.faults.notFound("DescribeImages", 2);
    world.ec2.faults.notFound("CreateTags", 1);
    const { outcome, events } = await ensureWithEvents(world, world.inputs({ flake: undefined, nixosConfiguration: undefined, imagePath }));
    const outs = (await outcome) as NixosAmiState;
    assert.equal(world.ec2.state.images.get(outs.amiId)?.state, "available");
    assert.equal(world.ec2.state.snapshots.get(outs.snapshotId)?.state, "completed", "the complete, valid snapshot was kept");
    assert.equal(world.ec2.calls.filter((call) => call.fault === "not-found").length, 5);
    const waits = events.filter((event) => /not visible yet \((InvalidSnapshot|InvalidAMIID)\.NotFound/.test(event.message));
    assert.deepEqual(
      [...new Set(waits.map((event) => `${event.step} ${event.message.split(" ")[0]?.slice(0, 4)}`))].sort(),
      ["ebs-direct snap", "register ami-", "register snap"].sort(),
      "each wait names its phase and resource",
    );
  });

  it("NotFound that outlasts the bounded wait: NOT_VISIBLE with the phase, the resource and what to do", async () => {
    const imagePath = await prebuiltImage(world, "never.raw");
    world.ec2.faults.notFound("DescribeImages", 1_000);
    const { outcome } = await ensureWithEvents(
      world,
      world.inputs({ flake: undefined, nixosConfiguration: undefined, imagePath, tuning: { retryBaseMs: 5, consistencyWaitMs: 200 } }),
    );
    await assert.rejects(outcome, (error: unknown) => {
      assert.ok(error instanceof ImagePipelineError, String(error));
      assert.equal(error.code, "NOT_VISIBLE");
      assert.equal(error.phase, "register");
      assert.match(error.resource ?? "", /^ami-[0-9a-f]{17}$/);
      assert.match(error.message, /InvalidAMIID\.NotFound/);
      assert.match(error.fix ?? "", /run again/);
      return true;
    });
  });
});

describe("throttling past the SDK's attempts", () => {
  let world: World;
  before(async () => {
    world = await startWorld({ seed: "throttle", s3: false });
  });
  after(() => world.close());

  it("more rounds with jittered backoff, each logged with the phase", async () => {
    const imagePath = await prebuiltImage(world, "busy.raw");
    // 5 SDK attempts per round: 7 throttles need a second round.
    world.ec2.faults.throttle("RegisterImage", 7);
    const { outcome, events } = await ensureWithEvents(world, world.inputs({ flake: undefined, nixosConfiguration: undefined, imagePath }));
    const outs = (await outcome) as NixosAmiState;
    assert.equal(world.ec2.state.images.get(outs.amiId)?.state, "available");
    assert.equal(world.ec2.count("RegisterImage"), 8);
    const logged = events.filter((event) => /^EC2 RegisterImage throttled \(RequestLimitExceeded\) after 5 attempts; retry round 1 of 4/.test(event.message));
    assert.deepEqual(
      logged.map((event) => event.step),
      ["register"],
    );
  });

  it("when it never stops: THROTTLED names the phase and the request, and says what to do", async () => {
    const imagePath = await prebuiltImage(world, "busier.raw");
    world.ec2.faults.throttle("DescribeImages", 1_000);
    const { outcome } = await ensureWithEvents(world, world.inputs({ flake: undefined, nixosConfiguration: undefined, imagePath, tuning: { retryBaseMs: 1, sdkAttempts: 2, throttleRetries: 2 } }));
    await assert.rejects(outcome, (error: unknown) => {
      assert.ok(error instanceof ImagePipelineError, String(error));
      assert.equal(error.code, "THROTTLED");
      assert.equal(error.phase, "adopt");
      assert.equal(error.resource, "EC2 DescribeImages");
      assert.match(error.message, /RequestLimitExceeded/);
      assert.match(error.fix ?? "", /wait a few minutes and run again/);
      return true;
    });
    assert.equal(world.ec2.calls.filter((call) => call.action === "DescribeImages" && call.fault === "throttle").length, 2 * 3, "2 attempts × (1 + 2 rounds)");
  });
});

describe("a missing bucket", () => {
  let world: World;
  before(async () => {
    world = await startWorld({ seed: "bucket" });
  });
  after(() => world.close());

  it("BUCKET_NOT_FOUND in the upload phase, naming the bucket and the fix", async () => {
    const imagePath = await prebuiltImage(world, "nobucket.raw");
    const { outcome } = await ensureWithEvents(
      world,
      world.inputs({ flake: undefined, nixosConfiguration: undefined, imagePath, importMethod: "vm-import", bucket: "no-such-bucket" }),
    );
    await assert.rejects(outcome, (error: unknown) => {
      assert.ok(error instanceof ImagePipelineError, String(error));
      assert.equal(error.code, "BUCKET_NOT_FOUND");
      assert.equal(error.phase, "upload");
      assert.match(error.resource ?? "", /^s3:\/\/no-such-bucket\//);
      assert.match(error.fix ?? "", /create the bucket/);
      return true;
    });
  });
});
