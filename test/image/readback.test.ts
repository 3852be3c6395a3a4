// Every snapshot the pipeline makes, read back through the SDK the way a user checks one
// (ListSnapshotBlocks + GetSnapshotBlock), equals the source image byte for byte: ebs-direct's and
// VM Import's. The fake's EBS errors are EBS's JSON shapes, 404 included.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand, ResourceNotFoundException, ValidationException } from "@aws-sdk/client-ebs";
import { nixosAmiProvider } from "../../providers/nixos-ami/provider.ts";
import type { NixosAmiState } from "../../providers/nixos-ami/types.ts";
import { EBS_BLOCK_SIZE } from "../fakes/ec2/index.ts";
import { REGION, startWorld, type World } from "./harness.ts";

/** The snapshot as a disk of `sizeBytes`: written blocks where listed, zeros elsewhere. */
async function readSnapshot(ebs: EBSClient, snapshotId: string, sizeBytes: number): Promise<{ disk: Buffer; pages: number }> {
  const disk = Buffer.alloc(sizeBytes);
  let NextToken: string | undefined;
  let pages = 0;
  do {
    // The smallest page EBS allows, so a 16 MiB image needs more than one.
    const page = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId, MaxResults: 100, NextToken }));
    pages++;
    assert.equal(page.BlockSize, EBS_BLOCK_SIZE);
    for (const block of page.Blocks ?? []) {
      const got = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: block.BlockIndex, BlockToken: block.BlockToken }));
      const data = Buffer.from((await got.BlockData?.transformToByteArray()) ?? []);
      assert.equal(got.DataLength, EBS_BLOCK_SIZE);
      assert.equal(got.Checksum, createHash("sha256").update(data).digest("base64"), `block ${block.BlockIndex}: the checksum header matches the data`);
      data.copy(disk, (block.BlockIndex ?? 0) * EBS_BLOCK_SIZE, 0, Math.max(0, Math.min(EBS_BLOCK_SIZE, sizeBytes - (block.BlockIndex ?? 0) * EBS_BLOCK_SIZE)));
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return { disk, pages };
}

describe("snapshots read back through the EBS direct APIs", () => {
  let world: World;
  let ebs: EBSClient;
  before(async () => {
    // Each test configures its own image.
    world = await startWorld({ seed: "readback" });
    ebs = new EBSClient({ region: REGION, endpoint: world.ec2.endpoint, credentials: { accessKeyId: "x", secretAccessKey: "y" } });
  });
  after(async () => {
    ebs.destroy();
    await world.close();
  });

  // ebs-direct's image is big enough to page: 52 MiB of data is 104 non-zero blocks, so a listing
  // of 100 needs two pages (with holes between the runs). VM Import's is small (its upload makes
  // it slow), with holes too.
  for (const [importMethod, sizeMiB, dataMiB, minPages] of [["ebs-direct", 56, 52, 2], ["vm-import", 8, 4, 1]] as const) {
    it(`${importMethod}: every block of the registered snapshot equals the source image`, async () => {
      await world.nix.configure({ seed: `readback-${importMethod}`, sizeMiB, dataMiB });
      const checked = await nixosAmiProvider.check({}, world.inputs({ importMethod, namePrefix: importMethod }));
      const outs = (await nixosAmiProvider.create(checked.inputs ?? {})).outs as NixosAmiState;
      const image = await readFile(await imageOf(world, outs));
      assert.equal(createHash("sha256").update(image).digest("hex"), outs.imageSha256, "the image file is the one the outputs describe");
      const { disk, pages } = await readSnapshot(ebs, outs.snapshotId, outs.sizeBytes);
      assert.ok(pages >= minPages, `paged (${pages} pages of at most 100 blocks)`);
      assert.equal(createHash("sha256").update(disk).digest("hex"), outs.imageSha256, "the snapshot holds exactly the image");
    });
  }

  it("errors are EBS's JSON shapes: x-amzn-ErrorType and {Message, Reason}, 404 for an unknown snapshot", async () => {
    await assert.rejects(ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: "snap-0123456789abcdef0" })), (error: unknown) => {
      assert.ok(error instanceof ResourceNotFoundException, String(error));
      assert.equal(error.Reason, "SNAPSHOT_NOT_FOUND");
      assert.equal(error.$metadata.httpStatusCode, 404);
      return true;
    });
    const [snapshotId] = [...world.ec2.state.snapshots.keys()];
    assert.ok(snapshotId);
    await assert.rejects(ebs.send(new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: 0, BlockToken: "forged" })), (error: unknown) => {
      assert.ok(error instanceof ValidationException, String(error));
      assert.equal(error.Reason, "INVALID_BLOCK_TOKEN");
      return true;
    });
    // The raw wire, since the SDK would also accept a sloppier shape.
    for (const path of ["/snapshots/snap-0123456789abcdef0/blocks", "/no/such/api"]) {
      const response = await fetch(`${world.ec2.endpoint}${path}`);
      assert.equal(response.status, 404);
      assert.equal(response.headers.get("x-amzn-errortype"), "ResourceNotFoundException");
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      const body = (await response.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ["Message", "Reason"]);
    }
  });
});

/** The raw image a run's outputs came from (the fake nix's build output for that identity). */
async function imageOf(world: World, outs: NixosAmiState): Promise<string> {
  const hash = outs.identity.slice("/nix/store/".length, "/nix/store/".length + 32);
  return `${world.dir}/store/${hash}-nixos-amazon-image/nixos.raw`;
}
