// The EC2 + EBS direct fake checked by a second, independent client: Debian's awscli v2 (botocore's
// own serializers and parsers), so the fake cannot merely mirror the JS SDK's assumptions.
import { after, before, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAwsCli, type AwsCli } from "../helpers/awscli.ts";
import { requireTool } from "../helpers/tools.ts";
import { EBS_BLOCK_SIZE, startEc2Fake, type Ec2Fake } from "./ec2/index.ts";

interface CliResult {
  readonly ok: boolean;
  readonly json: Record<string, unknown>;
  readonly stderr: string;
}
type Aws = (...args: string[]) => Promise<CliResult>;

let home: string;
/** One awscli for the file, started on first use (the tests that need it share it). */
let cli: AwsCli | undefined;

interface Setup {
  readonly aws: Aws;
  readonly fake: Ec2Fake;
  /** Moves the fake's clock forward (the import timeline, snapshot settling). */
  readonly tick: (ms: number) => void;
}

/**
 * A fake for this test alone, and Debian's awscli v2 pointed at it (a pip v1 `aws` may come first
 * on PATH, hence the absolute path). awscli runs in its own process: the fake lives in this one
 * and must keep answering while awscli waits.
 */
async function setup(t: TestContext): Promise<Setup | undefined> {
  const binary = requireTool(t, "/usr/bin/aws", "awscli");
  if (binary === undefined) return undefined;
  let now = 1_800_000_000_000;
  const fake = await startEc2Fake({ importDurationMs: 1000, snapshotCompletionMs: 100, clock: () => now });
  t.after(() => fake.close());
  cli ??= startAwsCli(binary, {
    PATH: "/usr/bin:/bin",
    HOME: home,
    AWS_ACCESS_KEY_ID: "AKIDFAKE",
    AWS_SECRET_ACCESS_KEY: "fake-secret",
    AWS_DEFAULT_REGION: fake.region,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: join(home, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(home, "no-credentials"),
    AWS_PAGER: "",
  });
  const running = cli;
  const aws: Aws = async (...args) => {
    const { code, stdout, stderr } = await running.run(["--endpoint-url", fake.endpoint, "--output", "json", ...args]);
    if (code !== 0) return { ok: false, json: {}, stderr };
    return { ok: true, json: stdout.trim() === "" ? {} : (JSON.parse(stdout) as Record<string, unknown>), stderr };
  };
  return { aws, fake, tick: (ms) => (now += ms) };
}

function succeeded(result: CliResult): Record<string, unknown> {
  assert.ok(result.ok, `aws failed: ${result.stderr}`);
  return result.json;
}

/** awscli prints AWS errors as "An error occurred (Code) when calling the X operation: message". */
function failedWith(result: CliResult, code: string): void {
  assert.equal(result.ok, false, `expected ${code}, but the command succeeded`);
  assert.match(result.stderr, new RegExp(`An error occurred \\(${code.replace(/\./g, "\\.")}\\)`));
}

// Each test has its own fake, so they run side by side; their awscli commands take turns.
describe("awscli v2 against the EC2 fake", { concurrency: true }, () => {
  before(async () => {
    home = await mkdtemp(join(tmpdir(), "ec2-fake-awscli-"));
  });
  after(async () => {
    await cli?.close();
    await rm(home, { recursive: true, force: true });
  });

  it("import-snapshot → describe-import-snapshot-tasks → register-image → describe-images → deregister-image", async (t) => {
    const context = await setup(t);
    if (context === undefined) return;
    const { aws, fake, tick } = context;
    const imported = succeeded(
      await aws(
        "ec2", "import-snapshot",
        "--client-token", "cli-identity",
        "--description", "nixos from the cli",
        "--disk-container", "Format=RAW,UserBucket={S3Bucket=images,S3Key=nixos/cli.raw}",
        "--tag-specifications", "ResourceType=import-snapshot-task,Tags=[{Key=clawdinators:identity,Value=cli}]",
      ),
    ) as { ImportTaskId: string; SnapshotTaskDetail: { Status: string; StatusMessage: string } };
    assert.match(imported.ImportTaskId, /^import-snap-/);
    assert.deepEqual([imported.SnapshotTaskDetail.Status, imported.SnapshotTaskDetail.StatusMessage], ["active", "pending"]);
    // What botocore put on the wire, decoded by the fake.
    const call = fake.calls.find((c) => c.action === "ImportSnapshot");
    assert.deepEqual(call?.params.DiskContainer, { Format: "RAW", UserBucket: { S3Bucket: "images", S3Key: "nixos/cli.raw" } });
    assert.equal(fake.state.importTasks.get(imported.ImportTaskId)?.tags.get("clawdinators:identity"), "cli");

    tick(1000);
    const described = succeeded(
      await aws("ec2", "describe-import-snapshot-tasks", "--import-task-ids", imported.ImportTaskId),
    ) as { ImportSnapshotTasks: Array<{ SnapshotTaskDetail: { Status: string; SnapshotId: string } }> };
    const detail = described.ImportSnapshotTasks[0]?.SnapshotTaskDetail;
    assert.equal(detail?.Status, "completed");
    const snapshotId = detail?.SnapshotId ?? assert.fail("no SnapshotId");

    const registerArgs = [
      "ec2", "register-image",
      "--name", "clawdinator-cli",
      "--architecture", "x86_64",
      "--root-device-name", "/dev/xvda",
      "--virtualization-type", "hvm",
      "--ena-support",
      "--sriov-net-support", "simple",
      "--boot-mode", "legacy-bios",
      "--imds-support", "v2.0",
      "--block-device-mappings", `DeviceName=/dev/xvda,Ebs={SnapshotId=${snapshotId},VolumeType=gp3,DeleteOnTermination=true}`,
    ];
    const { ImageId: imageId } = succeeded(await aws(...registerArgs)) as { ImageId: string };
    assert.match(imageId, /^ami-[0-9a-f]{17}$/);
    failedWith(await aws(...registerArgs), "InvalidAMIName.Duplicate");

    const images = succeeded(await aws("ec2", "describe-images", "--owners", "self", "--filters", "Name=name,Values=clawdinator-*")) as {
      Images: Array<Record<string, unknown>>;
    };
    assert.equal(images.Images.length, 1);
    const image = images.Images[0] ?? {};
    assert.equal(image.ImageId, imageId);
    assert.equal(image.State, "available");
    assert.equal(image.Architecture, "x86_64");
    assert.equal(image.EnaSupport, true);
    assert.equal(image.SriovNetSupport, "simple");
    assert.equal(image.BootMode, "legacy-bios");
    assert.equal(image.ImdsSupport, "v2.0");
    assert.deepEqual(image.BlockDeviceMappings, [
      { DeviceName: "/dev/xvda", Ebs: { DeleteOnTermination: true, SnapshotId: snapshotId, VolumeSize: 1, VolumeType: "gp3", Encrypted: false } },
    ]);

    succeeded(await aws("ec2", "deregister-image", "--image-id", imageId));
    assert.equal(fake.state.images.get(imageId)?.state, "deregistered");
  });

  it("ebs start-snapshot → put-snapshot-block → complete-snapshot, checksums verified", async (t) => {
    const context = await setup(t);
    if (context === undefined) return;
    const { aws, fake, tick } = context;
    const started = succeeded(await aws("ebs", "start-snapshot", "--volume-size", "1", "--client-token", "cli-ebs", "--tags", "Key=k,Value=v")) as {
      SnapshotId: string;
      BlockSize: number;
      Status: string;
    };
    assert.deepEqual([started.BlockSize, started.Status], [EBS_BLOCK_SIZE, "pending"]);

    const data = Buffer.alloc(EBS_BLOCK_SIZE, 0x5a);
    const blockFile = join(home, "block.bin");
    await writeFile(blockFile, data);
    const digest = createHash("sha256").update(data).digest();
    const put = (checksum: string): Promise<CliResult> =>
      aws(
        "ebs", "put-snapshot-block",
        "--snapshot-id", started.SnapshotId,
        "--block-index", "7",
        // botocore takes a streaming blob as a plain path (fileb:// is refused here).
        "--block-data", blockFile,
        "--data-length", String(EBS_BLOCK_SIZE),
        "--checksum", checksum,
        "--checksum-algorithm", "SHA256",
        "--progress", "100",
      );
    failedWith(await put(createHash("sha256").update("not the block").digest("base64")), "ValidationException");
    const accepted = succeeded(await put(digest.toString("base64"))) as { Checksum: string };
    assert.equal(accepted.Checksum, digest.toString("base64"));
    assert.ok(fake.blocks(started.SnapshotId).get(7)?.equals(data));

    const completed = succeeded(
      await aws(
        "ebs", "complete-snapshot",
        "--snapshot-id", started.SnapshotId,
        "--changed-blocks-count", "1",
        "--checksum", createHash("sha256").update(digest).digest("base64"),
        "--checksum-algorithm", "SHA256",
        "--checksum-aggregation-method", "LINEAR",
      ),
    ) as { Status: string };
    assert.equal(completed.Status, "pending");
    tick(100);
    const snapshots = succeeded(await aws("ec2", "describe-snapshots", "--owner-ids", "self", "--filters", "Name=tag:k,Values=v")) as {
      Snapshots: Array<{ SnapshotId: string; State: string }>;
    };
    assert.deepEqual(snapshots.Snapshots.map((s) => [s.SnapshotId, s.State]), [[started.SnapshotId, "completed"]]);

    // Read it back the way a user checks a snapshot.
    const listed = succeeded(await aws("ebs", "list-snapshot-blocks", "--snapshot-id", started.SnapshotId)) as {
      Blocks: Array<{ BlockIndex: number; BlockToken: string }>;
      BlockSize: number;
      VolumeSize: number;
    };
    assert.deepEqual([listed.BlockSize, listed.VolumeSize, listed.Blocks.map((block) => block.BlockIndex)], [EBS_BLOCK_SIZE, 1, [7]]);
    const outFile = join(home, "read-back.bin");
    const got = succeeded(
      await aws("ebs", "get-snapshot-block", "--snapshot-id", started.SnapshotId, "--block-index", "7", "--block-token", listed.Blocks[0]?.BlockToken ?? "", outFile),
    ) as { DataLength: number | string; Checksum: string; ChecksumAlgorithm: string };
    // awscli v2.9 prints this header member as a string, whatever its integer shape says.
    assert.deepEqual([Number(got.DataLength), got.Checksum, got.ChecksumAlgorithm], [EBS_BLOCK_SIZE, digest.toString("base64"), "SHA256"]);
    assert.ok((await readFile(outFile)).equals(data), "the block read back is the block written");
    // EBS's JSON errors (x-amzn-ErrorType + {"Message","Reason"}), 404 included, as botocore parses them.
    failedWith(await aws("ebs", "list-snapshot-blocks", "--snapshot-id", "snap-0123456789abcdef0"), "ResourceNotFoundException");
    failedWith(await aws("ebs", "get-snapshot-block", "--snapshot-id", started.SnapshotId, "--block-index", "7", "--block-token", "forged", outFile), "ValidationException");
  });

  it("retries through a throttled request (botocore's own retry logic)", async (t) => {
    const context = await setup(t);
    if (context === undefined) return;
    const { aws, fake } = context;
    fake.faults.throttle("DescribeSnapshots", 1);
    const before = fake.count("DescribeSnapshots");
    succeeded(await aws("ec2", "describe-snapshots", "--owner-ids", "self"));
    const seen = fake.calls.filter((c) => c.action === "DescribeSnapshots").slice(before);
    assert.deepEqual(seen.map((c) => c.fault), ["throttle", undefined]);
  });
});
