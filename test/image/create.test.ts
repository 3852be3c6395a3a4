// Acceptance: create sets the outputs and registers a modern, tagged AMI; a second run with the same
// identity uploads and imports nothing; ebs-direct sends only the non-zero blocks of a sparse image.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { nixosAmiProvider } from "../../providers/nixos-ami/provider.ts";
import type { NixosAmiState } from "../../providers/nixos-ami/types.ts";
import { EBS_BLOCK_SIZE } from "../fakes/ec2/index.ts";
import { BUCKET, REGION, startWorld, type World } from "./harness.ts";

async function checkedInputs(world: World, overrides: Record<string, unknown>): Promise<Record<string, unknown>> {
  const checked = await nixosAmiProvider.check({}, world.inputs(overrides));
  assert.deepEqual(checked.failures, []);
  return checked.inputs ?? {};
}

function assertModernAmi(world: World, outs: NixosAmiState): void {
  const image = world.ec2.state.images.get(outs.amiId);
  assert.ok(image, `AMI ${outs.amiId} is registered at the fake`);
  assert.equal(image.state, "available");
  assert.equal(image.architecture, "x86_64");
  assert.equal(image.virtualizationType, "hvm");
  assert.equal(image.enaSupport, true);
  assert.equal(image.sriovNetSupport, "simple");
  assert.equal(image.imdsSupport, "v2.0");
  assert.equal(image.bootMode, "uefi");
  assert.equal(image.rootDeviceName, "/dev/xvda");
  const root = image.blockDeviceMappings[0];
  assert.equal(root?.deviceName, "/dev/xvda");
  assert.equal(root?.ebs?.volumeType, "gp3");
  assert.equal(root?.ebs?.snapshotId, outs.snapshotId);
  // An instance-independent name: the prefix and the identity's store hash.
  assert.match(image.name, /^clawdinator-nixos-[0-9a-z]{32}$/);
  assert.ok(outs.identity.includes(image.name.slice("clawdinator-nixos-".length)));
  for (const tags of [image.tags, world.ec2.state.snapshots.get(outs.snapshotId)?.tags]) {
    assert.ok(tags, "snapshot exists");
    assert.equal(tags.get("clawdinator:identity"), outs.identity);
    assert.equal(tags.get("clawdinator:closure"), outs.closure);
    assert.equal(tags.get("clawdinator:image-sha256"), outs.imageSha256);
    assert.ok(tags.get("clawdinator:source-key"));
    assert.equal(tags.get("Name"), image.name);
    assert.equal(tags.get("project"), "clawdinators");
  }
}

describe("create with vm-import", () => {
  let world: World;
  let outs: NixosAmiState;
  before(async () => {
    // Bigger than one 16 MiB upload part (a multipart upload), and no bigger: every MiB is hashed,
    // uploaded, stored by s3rver, fetched by the fake's import and read back here several times.
    world = await startWorld({ seed: "vm-import", sizeMiB: 17, dataMiB: 8 });
  });
  after(() => world.close());

  it("builds, uploads, imports and registers; the outputs describe what was made", async () => {
    // Some turbulence on the way: throttled polls and a dropped connection are retried.
    world.ec2.faults.throttle("DescribeImportSnapshotTasks", 2);
    world.ec2.faults.resetConnection("RegisterImage", 1);
    const created = await nixosAmiProvider.create(await checkedInputs(world, { importMethod: "vm-import" }));
    outs = created.outs as NixosAmiState;
    assert.equal(created.id, outs.amiId);
    assert.match(outs.amiId, /^ami-[0-9a-f]{17}$/);
    assert.match(outs.snapshotId, /^snap-[0-9a-f]{17}$/);
    assert.match(outs.identity, /^\/nix\/store\/[0-9a-z]{32}-nixos-amazon-image/);
    assert.match(outs.closure, /^\/nix\/store\/[0-9a-z]{32}-nixos-system/);
    assert.equal(outs.sizeBytes, 17 * 2 ** 20);
    assert.equal(outs.s3Key, `images/${outs.identity.slice(11, 43)}.raw`);
    assertModernAmi(world, outs);
    assert.equal(world.ec2.state.importTasks.size, 1);
    assert.equal(world.ec2.count("RegisterImage"), 2, "the reset registration was retried once");
    assert.equal(world.ec2.state.images.size, 1, "and made one AMI");
  });

  it("stores the image in S3 byte for byte, with its SHA-256 recorded", async () => {
    const s3 = new S3Client({ region: REGION, endpoint: world.s3.endpoint, forcePathStyle: true });
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: outs.s3Key }));
      assert.equal(head.Metadata?.sha256, outs.imageSha256);
      // Read it back: an emulator or a client that mangles the body (aws-chunked framing) shows here.
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: outs.s3Key }));
      const stored = createHash("sha256");
      for await (const chunk of object.Body as AsyncIterable<Uint8Array>) stored.update(chunk);
      assert.equal(stored.digest("hex"), outs.imageSha256);
      const built = createHash("sha256");
      for await (const chunk of createReadStream(await world.builtImagePath())) built.update(chunk as Buffer);
      assert.equal(built.digest("hex"), outs.imageSha256);
    } finally {
      s3.destroy();
    }
  });

  it("a second run with the same identity uploads nothing and imports nothing", async () => {
    const uploadsBefore = world.s3.uploads().length;
    const s3RequestsBefore = world.s3.requests.length;
    const importsBefore = world.ec2.count("ImportSnapshot");
    const registersBefore = world.ec2.count("RegisterImage");
    const buildsBefore = (await world.nix.commands()).filter((command) => command === "build").length;
    const again = await nixosAmiProvider.create(await checkedInputs(world, { importMethod: "vm-import" }));
    assert.equal(again.id, outs.amiId);
    assert.deepEqual({ ...again.outs, tuning: undefined }, { ...outs, tuning: undefined });
    assert.equal(world.s3.uploads().length - uploadsBefore, 0);
    assert.equal(world.s3.requests.length - s3RequestsBefore, 0);
    assert.equal(world.ec2.count("ImportSnapshot") - importsBefore, 0);
    assert.equal(world.ec2.count("RegisterImage") - registersBefore, 0);
    assert.equal((await world.nix.commands()).filter((command) => command === "build").length - buildsBefore, 0, "nothing was built");
  });
});

describe("create with ebs-direct on a sparse 32 MiB image holding 16 MiB of data", () => {
  let world: World;
  before(async () => {
    // Half of it holes: enough to show they are skipped (every byte is still read and hashed).
    world = await startWorld({ seed: "ebs-direct", sizeMiB: 32, dataMiB: 16, s3: false });
  });
  after(() => world.close());

  it("sends only the non-zero blocks, each checksummed, and registers the same kind of AMI", async () => {
    // New snapshots refuse writes for a while; blocks also meet throttling and dropped connections.
    world.ec2.faults.rejectBlockWritesFor(150);
    world.ec2.faults.throttle("PutSnapshotBlock", 3);
    world.ec2.faults.resetConnection("PutSnapshotBlock", 2);
    const created = await nixosAmiProvider.create(await checkedInputs(world, { importMethod: "ebs-direct" }));
    const outs = created.outs as NixosAmiState;
    assertModernAmi(world, outs);
    assert.equal(outs.s3Key, "", "ebs-direct does not go through S3");
    assert.equal(world.s3.uploads().length, 0);
    assert.equal(world.ec2.count("ImportSnapshot"), 0);

    // The image block by block through one buffer (fresh memory for the whole image is dear);
    // Buffer.equals is a memcmp: a byte-by-byte callback over a big image costs seconds of CPU.
    const stored = world.ec2.blocks(outs.snapshotId);
    const nonZero: number[] = [];
    const zeroBlock = Buffer.alloc(EBS_BLOCK_SIZE);
    const buffer = Buffer.alloc(EBS_BLOCK_SIZE);
    const image = await open(await world.builtImagePath());
    try {
      for (let index = 0; ; index++) {
        const { bytesRead } = await image.read(buffer, 0, EBS_BLOCK_SIZE, index * EBS_BLOCK_SIZE);
        if (bytesRead === 0) break;
        const block = buffer.subarray(0, bytesRead);
        if (block.equals(zeroBlock.subarray(0, bytesRead))) continue;
        nonZero.push(index);
        assert.ok(stored.get(index)?.equals(block), `block ${index} arrived intact`);
      }
    } finally {
      await image.close();
    }
    assert.equal(nonZero.length, (16 * 2 ** 20) / EBS_BLOCK_SIZE, "the fake nix wrote 16 MiB of data");
    assert.deepEqual([...stored.keys()].sort((a, b) => a - b), nonZero, "exactly the non-zero blocks were written");
    const accepted = world.ec2.calls.filter((call) => call.action === "PutSnapshotBlock" && call.fault === undefined);
    const acceptedBlocks = new Set(accepted.map((call) => String(call.params.blockIndex ?? call.params.BlockIndex)));
    assert.ok(acceptedBlocks.size >= nonZero.length);
    assert.equal(world.ec2.state.snapshots.get(outs.snapshotId)?.state, "completed", "CompleteSnapshot's LINEAR checksum was accepted");
    assert.equal(world.ec2.count("CompleteSnapshot"), 1);
  });
});
