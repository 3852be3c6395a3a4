// Every snapshot the pipeline makes, read back through the SDK the way a user checks one
// (ListSnapshotBlocks + GetSnapshotBlock), equals the source image byte for byte: ebs-direct's and
// VM Import's. The fake's EBS errors are EBS's JSON shapes, 404 included.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { after, before, describe, it } from "node:test";
import { EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand, ResourceNotFoundException, ValidationException } from "@aws-sdk/client-ebs";
import { nixosAmiProvider } from "../../providers/nixos-ami/provider.ts";
import type { NixosAmiState } from "../../providers/nixos-ami/types.ts";
import { EBS_BLOCK_SIZE } from "../fakes/ec2/index.ts";
import { REGION, startWorld, type World } from "./harness.ts";

/** Every written block of the snapshot by index, each checked against its checksum header. */
async function readSnapshot(ebs: EBSClient, snapshotId: string): Promise<{ blocks: Map<number, Buffer>; pages: number }> {
  const blocks = new Map<number, Buffer>();
  let NextToken: string | undefined;
  let pages = 0;
  do {
    // The smallest page EBS allows, so a 56 MiB image with 52 MiB of data needs more than one.
    const page = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId, MaxResults: 100, NextToken }));
    pages++;
    assert.equal(page.BlockSize, EBS_BLOCK_SIZE);
    for (const block of page.Blocks ?? []) {
      const got = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: block.BlockIndex, BlockToken: block.BlockToken }));
      const data = Buffer.from((await got.BlockData?.transformToByteArray()) ?? []);
      assert.equal(got.DataLength, EBS_BLOCK_SIZE);
      assert.equal(got.Checksum, createHash("sha256").update(data).digest("base64"), `block ${block.BlockIndex}: the checksum header matches the data`);
      blocks.set(block.BlockIndex ?? 0, data);
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return { blocks, pages };
}

/**
 * SHA-256 of the snapshot as a disk of `sizeBytes`: written blocks where listed, zeros elsewhere.
 * Hashed block by block rather than assembled into one disk-sized buffer (fresh memory is dear).
 */
function diskSha256(blocks: ReadonlyMap<number, Buffer>, sizeBytes: number): string {
  const hash = createHash("sha256");
  const zeros = Buffer.alloc(EBS_BLOCK_SIZE);
  for (let offset = 0; offset < sizeBytes; offset += EBS_BLOCK_SIZE) {
    hash.update((blocks.get(offset / EBS_BLOCK_SIZE) ?? zeros).subarray(0, Math.min(EBS_BLOCK_SIZE, sizeBytes - offset)));
  }
  return hash.digest("hex");
}

/** SHA-256 of a file, read as a stream (small chunks reuse memory; the test's own hash, not the provider's). */
async function fileSha256(filePath: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest("hex");
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
      assert.equal(await fileSha256(await imageOf(world, outs)), outs.imageSha256, "the image file is the one the outputs describe");
      const { blocks, pages } = await readSnapshot(ebs, outs.snapshotId);
      assert.ok(pages >= minPages, `paged (${pages} pages of at most 100 blocks)`);
      assert.equal(diskSha256(blocks, outs.sizeBytes), outs.imageSha256, "the snapshot holds exactly the image");
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
