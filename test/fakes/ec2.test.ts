// The EC2 + EBS direct fake, driven by the real AWS SDK v3 clients (and raw HTTP where the wire
// shape itself is the point). awscli checks the same fake in ec2-awscli.test.ts.
import { after, before, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  CancelImportTaskCommand,
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeleteTagsCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeImportSnapshotTasksCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  ImportSnapshotCommand,
  RegisterImageCommand,
  type DescribeImagesCommandInput,
  type DescribeSnapshotsCommandInput,
  type ImportSnapshotCommandInput,
  type RegisterImageCommandInput,
  type SnapshotTaskDetail,
} from "@aws-sdk/client-ec2";
import {
  CompleteSnapshotCommand,
  EBSClient,
  PutSnapshotBlockCommand,
  StartSnapshotCommand,
  type PutSnapshotBlockCommandInput,
} from "@aws-sdk/client-ebs";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { startTempS3, type S3Fake } from "../helpers/s3.ts";
import { EBS_BLOCK_SIZE, EC2_NAMESPACE, linearAggregate, startEc2Fake, type Ec2Fake, type Ec2FakeOptions } from "./ec2/index.ts";
import { parseQuery } from "./ec2/query.ts";

const credentials = { accessKeyId: "AKIDFAKE", secretAccessKey: "fake-secret" };

function clients(fake: Ec2Fake, maxAttempts = 3): { ec2: EC2Client; ebs: EBSClient } {
  const config = { endpoint: fake.endpoint, region: fake.region, credentials, maxAttempts };
  return { ec2: new EC2Client(config), ebs: new EBSClient(config) };
}

/**
 * A fake whose clock the test moves by hand, so every step of the import timeline is observed;
 * closed when the test ends.
 */
async function steppedFake(t: TestContext, options: Ec2FakeOptions = {}): Promise<{ fake: Ec2Fake; tick: (ms: number) => void }> {
  let now = 1_800_000_000_000;
  const fake = await startEc2Fake({ importDurationMs: 1000, snapshotCompletionMs: 100, clock: () => now, ...options });
  t.after(() => fake.close());
  return { fake, tick: (ms) => (now += ms) };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; code?: string; Reason?: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the call to fail");
}

function importInput(overrides: Partial<ImportSnapshotCommandInput> = {}): ImportSnapshotCommandInput {
  return {
    Description: "nixos image",
    DiskContainer: { Format: "RAW", UserBucket: { S3Bucket: "images", S3Key: "nixos/abc.raw" } },
    TagSpecifications: [{ ResourceType: "import-snapshot-task", Tags: [{ Key: "clawdinators:identity", Value: "abc" }] }],
    ...overrides,
  };
}

async function taskDetail(ec2: EC2Client, importTaskId: string): Promise<SnapshotTaskDetail> {
  const { ImportSnapshotTasks } = await ec2.send(new DescribeImportSnapshotTasksCommand({ ImportTaskIds: [importTaskId] }));
  assert.equal(ImportSnapshotTasks?.length, 1);
  return ImportSnapshotTasks?.[0]?.SnapshotTaskDetail ?? assert.fail("no SnapshotTaskDetail");
}

/** Imports and steps the clock to the end; returns the completed snapshot's id. */
async function importedSnapshot(ec2: EC2Client, tick: (ms: number) => void, key = "nixos/abc.raw"): Promise<string> {
  const { ImportTaskId } = await ec2.send(
    new ImportSnapshotCommand(importInput({ DiskContainer: { Format: "RAW", UserBucket: { S3Bucket: "images", S3Key: key } } })),
  );
  tick(1000);
  const detail = await taskDetail(ec2, ImportTaskId ?? assert.fail("no ImportTaskId"));
  assert.equal(detail.Status, "completed");
  return detail.SnapshotId ?? assert.fail("completed task without SnapshotId");
}

function modernImage(snapshotId: string, name: string, overrides: Partial<RegisterImageCommandInput> = {}): RegisterImageCommandInput {
  return {
    Name: name,
    Architecture: "arm64",
    RootDeviceName: "/dev/xvda",
    VirtualizationType: "hvm",
    EnaSupport: true,
    SriovNetSupport: "simple",
    BootMode: "uefi",
    ImdsSupport: "v2.0",
    BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snapshotId, VolumeType: "gp3", DeleteOnTermination: true } }],
    TagSpecifications: [{ ResourceType: "image", Tags: [{ Key: "clawdinators:identity", Value: name }] }],
    ...overrides,
  };
}

function block(fill: number): { data: Buffer; digest: Buffer; checksum: string } {
  const data = Buffer.alloc(EBS_BLOCK_SIZE, fill);
  const digest = createHash("sha256").update(data).digest();
  return { data, digest, checksum: digest.toString("base64") };
}

describe("EC2 Query wire format", () => {
  it("decodes flattened lists and structures generically", () => {
    const params = parseQuery(
      "Action=RegisterImage&Filter.2.Name=tag%3Ab&Filter.1.Name=name&Filter.1.Value.1=x*&Filter.1.Value.2=y" +
        "&BlockDeviceMapping.1.Ebs.SnapshotId=snap-1&BlockDeviceMapping.1.DeviceName=%2Fdev%2Fxvda",
    );
    assert.deepEqual(params, {
      Action: "RegisterImage",
      Filter: [{ Name: "name", Value: ["x*", "y"] }, { Name: "tag:b" }],
      BlockDeviceMapping: [{ Ebs: { SnapshotId: "snap-1" }, DeviceName: "/dev/xvda" }],
    });
    assert.throws(() => parseQuery("A.1=x&A.b=y"), /list index mixed with member names/);
  });

  it("answers in EC2's XML shapes: namespace, requestId, <item> lists, <Response><Errors> errors", async (t) => {
    const fake = await startEc2Fake();
    t.after(() => fake.close());
    const post = (body: string): Promise<Response> =>
      fetch(fake.endpoint, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
    const ok = await post("Action=DescribeImages&Version=2016-11-15&Owner.1=self");
    assert.equal(ok.status, 200);
    const okXml = await ok.text();
    assert.match(okXml, new RegExp(`^<\\?xml version="1.0" encoding="UTF-8"\\?>\\n<DescribeImagesResponse xmlns="${EC2_NAMESPACE}"><requestId>[0-9a-f-]{36}</requestId><imagesSet></imagesSet></DescribeImagesResponse>$`));

    const bad = await post("Action=LaunchRockets&Version=2016-11-15");
    assert.equal(bad.status, 400);
    assert.match(
      await bad.text(),
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>InvalidAction<\/Code><Message>The action LaunchRockets is not valid for this web service.<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/,
    );
    const { SnapshotId } = await clients(fake).ebs.send(new StartSnapshotCommand({ VolumeSize: 1 }));
    const items = await (await post("Action=DescribeSnapshots&Version=2016-11-15")).text();
    assert.match(items, new RegExp(`<snapshotSet><item><snapshotId>${SnapshotId}</snapshotId><volumeId>vol-ffffffff</volumeId><status>pending</status>`));
  });
});

describe("VM Import (ImportSnapshot) through the SDK", () => {
  it("walks active/pending → active with progress → completed, then the snapshot exists", async (t) => {
    const { fake, tick } = await steppedFake(t);
    const { ec2 } = clients(fake);
    const started = await ec2.send(new ImportSnapshotCommand(importInput()));
    const id = started.ImportTaskId ?? assert.fail("no ImportTaskId");
    assert.match(id, /^import-snap-[0-9a-f]{17}$/);
    assert.equal(started.SnapshotTaskDetail?.Status, "active");
    assert.equal(started.SnapshotTaskDetail?.StatusMessage, "pending");
    assert.deepEqual(started.SnapshotTaskDetail?.UserBucket, { S3Bucket: "images", S3Key: "nixos/abc.raw" });
    assert.deepEqual(started.Tags, [{ Key: "clawdinators:identity", Value: "abc" }]);

    tick(300);
    const early = await taskDetail(ec2, id);
    tick(400);
    const late = await taskDetail(ec2, id);
    assert.equal(early.Status, "active");
    assert.equal(late.Status, "active");
    assert.ok(Number(early.Progress) < Number(late.Progress), `progress must grow: ${early.Progress} then ${late.Progress}`);
    assert.equal(early.SnapshotId, undefined);

    tick(300);
    const done = await taskDetail(ec2, id);
    assert.equal(done.Status, "completed");
    assert.equal(done.Progress, undefined);
    const snapshotId = done.SnapshotId ?? assert.fail("no SnapshotId");
    const { Snapshots } = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId], OwnerIds: ["self"] }));
    assert.equal(Snapshots?.[0]?.State, "completed");
    // VM Import does not copy the task's tags to the snapshot: the caller tags it.
    assert.equal(Snapshots?.[0]?.Tags, undefined);
    assert.equal(fake.state.importTasks.get(id)?.status, "completed");
  });

  it("is idempotent on ClientToken and rejects the token reused for another request", async (t) => {
    const { fake } = await steppedFake(t);
    const { ec2 } = clients(fake);
    const first = await ec2.send(new ImportSnapshotCommand(importInput({ ClientToken: "identity-abc" })));
    const again = await ec2.send(new ImportSnapshotCommand(importInput({ ClientToken: "identity-abc" })));
    assert.equal(again.ImportTaskId, first.ImportTaskId);
    assert.equal(fake.state.importTasks.size, 1);
    assert.equal(fake.count("ImportSnapshot"), 2);
    const mismatch = await rejection(
      ec2.send(new ImportSnapshotCommand(importInput({ ClientToken: "identity-abc", Description: "another image" }))),
    );
    assert.equal(mismatch.name, "IdempotentParameterMismatch");
  });

  it("filters tasks by tag and fails unknown task ids", async (t) => {
    const { fake } = await steppedFake(t);
    const { ec2 } = clients(fake);
    const { ImportTaskId } = await ec2.send(new ImportSnapshotCommand(importInput()));
    await ec2.send(new ImportSnapshotCommand(importInput({ TagSpecifications: [] })));
    const tagged = await ec2.send(
      new DescribeImportSnapshotTasksCommand({ Filters: [{ Name: "tag:clawdinators:identity", Values: ["ab*"] }] }),
    );
    assert.deepEqual(tagged.ImportSnapshotTasks?.map((task) => task.ImportTaskId), [ImportTaskId]);
    const all = await ec2.send(new DescribeImportSnapshotTasksCommand({}));
    assert.equal(all.ImportSnapshotTasks?.length, 2);
    const unknown = await rejection(ec2.send(new DescribeImportSnapshotTasksCommand({ ImportTaskIds: ["import-snap-0123456789abcdef0"] })));
    assert.equal(unknown.name, "InvalidConversionTaskId.Malformed");
  });

  it("failImport ends the next task deleted (via deleting) with AWS's message and no snapshot", async (t) => {
    const { fake, tick } = await steppedFake(t);
    const { ec2 } = clients(fake);
    const message = "ClientError: Disk validation failed [Unsupported specified file format]";
    fake.faults.failImport(message);
    const { ImportTaskId } = await ec2.send(new ImportSnapshotCommand(importInput()));
    const id = ImportTaskId ?? assert.fail("no id");
    tick(550);
    const deleting = await taskDetail(ec2, id);
    assert.equal(deleting.Status, "deleting");
    tick(450);
    const deleted = await taskDetail(ec2, id);
    assert.equal(deleted.Status, "deleted");
    assert.equal(deleted.StatusMessage, message);
    assert.equal(deleted.SnapshotId, undefined);
    assert.equal(fake.state.snapshots.size, 0);
    // Only the next task fails.
    const next = await ec2.send(new ImportSnapshotCommand(importInput()));
    tick(1000);
    assert.equal((await taskDetail(ec2, next.ImportTaskId ?? "")).Status, "completed");
  });

  it("CancelImportTask moves an active task to deleting, then deleted", async (t) => {
    const { fake, tick } = await steppedFake(t);
    const { ec2 } = clients(fake);
    const { ImportTaskId } = await ec2.send(new ImportSnapshotCommand(importInput()));
    const id = ImportTaskId ?? assert.fail("no id");
    const cancelled = await ec2.send(new CancelImportTaskCommand({ ImportTaskId: id, CancelReason: "superseded" }));
    assert.deepEqual([cancelled.PreviousState, cancelled.State], ["active", "deleting"]);
    tick(1000);
    const detail = await taskDetail(ec2, id);
    assert.deepEqual([detail.Status, detail.StatusMessage], ["deleted", "superseded"]);
    assert.equal((await rejection(ec2.send(new CancelImportTaskCommand({ ImportTaskId: id })))).name, "IncorrectState");
  });

  describe("with an S3 endpoint (s3rver)", () => {
    let s3rver: S3Fake;
    let s3Endpoint: string;
    before(async () => {
      s3rver = await startTempS3(["images"]);
      s3Endpoint = s3rver.endpoint;
      // s3rver's built-in account.
      const s3Credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
      const s3 = new S3Client({ endpoint: s3Endpoint, region: "us-east-1", credentials: s3Credentials, forcePathStyle: true });
      await s3.send(new PutObjectCommand({ Bucket: "images", Key: "nixos/abc.raw", Body: Buffer.alloc(4096, 1) }));
      s3.destroy();
    });
    after(() => s3rver.close());

    it("imports an object that exists, reporting its size", async (t) => {
      const { fake, tick } = await steppedFake(t, { s3Endpoint });
      const { ec2 } = clients(fake);
      const { ImportTaskId } = await ec2.send(new ImportSnapshotCommand(importInput()));
      tick(1000);
      const detail = await taskDetail(ec2, ImportTaskId ?? "");
      assert.equal(detail.Status, "completed");
      assert.equal(detail.DiskImageSize, 4096);
    });

    it("fails the task, quoting the S3 location, when the object is missing", async (t) => {
      const { fake, tick } = await steppedFake(t, { s3Endpoint });
      const { ec2 } = clients(fake);
      const { ImportTaskId } = await ec2.send(
        new ImportSnapshotCommand(importInput({ DiskContainer: { Format: "RAW", UserBucket: { S3Bucket: "images", S3Key: "nixos/missing.raw" } } })),
      );
      tick(1000);
      const detail = await taskDetail(ec2, ImportTaskId ?? "");
      assert.equal(detail.Status, "deleted");
      assert.match(detail.StatusMessage ?? "", /^ClientError: .*s3:\/\/images\/nixos\/missing\.raw/);
      assert.equal(fake.state.snapshots.size, 0);
    });
  });
});

describe("images and snapshots through the SDK", () => {
  it("registers a modern AMI and describes it with the attributes and tags given", async (t) => {
    const { fake, tick } = await steppedFake(t);
    const { ec2 } = clients(fake);
    const snapshotId = await importedSnapshot(ec2, tick);
    const { ImageId } = await ec2.send(new RegisterImageCommand(modernImage(snapshotId, "clawdinator-nixos-abc")));
    assert.match(ImageId ?? "", /^ami-[0-9a-f]{17}$/);
    const { Images } = await ec2.send(new DescribeImagesCommand({ ImageIds: [ImageId ?? ""], Owners: ["self"] }));
    const image = Images?.[0] ?? assert.fail("image not described");
    assert.equal(image.State, "available");
    assert.equal(image.Architecture, "arm64");
    assert.equal(image.VirtualizationType, "hvm");
    assert.equal(image.EnaSupport, true);
    assert.equal(image.SriovNetSupport, "simple");
    assert.equal(image.BootMode, "uefi");
    assert.equal(image.ImdsSupport, "v2.0");
    assert.equal(image.RootDeviceName, "/dev/xvda");
    assert.equal(image.RootDeviceType, "ebs");
    assert.deepEqual(image.BlockDeviceMappings, [
      { DeviceName: "/dev/xvda", Ebs: { SnapshotId: snapshotId, VolumeSize: 1, VolumeType: "gp3", DeleteOnTermination: true, Encrypted: false } },
    ]);
    assert.deepEqual(image.Tags, [{ Key: "clawdinators:identity", Value: "clawdinator-nixos-abc" }]);
  });

  it("an AMI stays pending for imageAvailableMs, then becomes available; DryRun changes nothing", async (t) => {
    const { fake, tick } = await steppedFake(t, { imageAvailableMs: 500 });
    const { ec2 } = clients(fake);
    const snapshotId = await importedSnapshot(ec2, tick);
    const dryRun = await rejection(ec2.send(new RegisterImageCommand({ ...modernImage(snapshotId, "dry"), DryRun: true })));
    assert.equal(dryRun.name, "DryRunOperation");
    assert.equal(fake.state.images.size, 0);
    const { ImageId } = await ec2.send(new RegisterImageCommand(modernImage(snapshotId, "slow")));
    const state = async (): Promise<string | undefined> =>
      (await ec2.send(new DescribeImagesCommand({ ImageIds: [ImageId ?? ""] }))).Images?.[0]?.State;
    assert.equal(await state(), "pending");
    tick(500);
    assert.equal(await state(), "available");
  });

  it("filters images by name wildcard, tag:Key, tag-key and owner", async (t) => {
    const { fake, tick } = await steppedFake(t);
    const { ec2 } = clients(fake);
    const snapshotId = await importedSnapshot(ec2, tick);
    const a = await ec2.send(new RegisterImageCommand(modernImage(snapshotId, "clawdinator-a")));
    const b = await ec2.send(new RegisterImageCommand(modernImage(snapshotId, "other-b", { TagSpecifications: [] })));
    const ids = async (input: DescribeImagesCommandInput): Promise<string[]> =>
      ((await ec2.send(new DescribeImagesCommand(input))).Images ?? []).map((image) => image.ImageId ?? "").sort();
    assert.deepEqual(await ids({ Filters: [{ Name: "name", Values: ["clawdinator-*"] }] }), [a.ImageId]);
    assert.deepEqual(await ids({ Filters: [{ Name: "name", Values: ["clawdinator-?", "other-b"] }] }), [a.ImageId, b.ImageId].sort());
    assert.deepEqual(await ids({ Filters: [{ Name: "tag:clawdinators:identity", Values: ["clawdinator-a"] }] }), [a.ImageId]);
    assert.deepEqual(await ids({ Filters: [{ Name: "tag-key", Values: ["clawdinators:identity"] }] }), [a.ImageId]);
    assert.deepEqual(await ids({ Owners: ["amazon"] }), []);
    const badFilter = await rejection(ec2.send(new DescribeImagesCommand({ Filters: [{ Name: "colour", Values: ["red"] }] })));
    assert.equal(badFilter.name, "InvalidParameterValue");
  });

  it("maps RegisterImage's errors to the SDK's exception names", async (t) => {
    const { fake, tick } = await steppedFake(t);
    const { ec2 } = clients(fake);
    const snapshotId = await importedSnapshot(ec2, tick);
    await ec2.send(new RegisterImageCommand(modernImage(snapshotId, "taken")));
    const cases: Array<[RegisterImageCommandInput, string]> = [
      [modernImage(snapshotId, "taken"), "InvalidAMIName.Duplicate"],
      [modernImage("snap-0123456789abcdef0", "fresh"), "InvalidSnapshot.NotFound"],
      [modernImage(snapshotId, "no"), "InvalidAMIName.Malformed"],
      [modernImage(snapshotId, "fresh", { RootDeviceName: "/dev/sda1" }), "InvalidBlockDeviceMapping"],
      [modernImage(snapshotId, "fresh", { TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: "a", Value: "b" }] }] }), "InvalidParameterValue"],
    ];
    for (const [input, expected] of cases) {
      assert.equal((await rejection(ec2.send(new RegisterImageCommand(input)))).name, expected, `for ${input.Name}`);
    }
  });

  it("deregisters once, frees the snapshot for deletion, and reports what is already gone", async (t) => {
    const { fake, tick } = await steppedFake(t);
    const { ec2 } = clients(fake);
    const snapshotId = await importedSnapshot(ec2, tick);
    const { ImageId } = await ec2.send(new RegisterImageCommand(modernImage(snapshotId, "short-lived")));
    const imageId = ImageId ?? assert.fail("no ImageId");
    assert.equal((await rejection(ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })))).name, "InvalidSnapshot.InUse");
    await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
    assert.equal((await rejection(ec2.send(new DeregisterImageCommand({ ImageId: imageId })))).name, "InvalidAMIID.Unavailable");
    assert.equal((await rejection(ec2.send(new DeregisterImageCommand({ ImageId: "ami-0123456789abcdef0" })))).name, "InvalidAMIID.NotFound");
    assert.equal((await rejection(ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] })))).name, "InvalidAMIID.NotFound");
    // The name is free again once the image is deregistered.
    const reused = await ec2.send(new RegisterImageCommand(modernImage(snapshotId, "short-lived")));
    await ec2.send(new DeregisterImageCommand({ ImageId: reused.ImageId ?? "" }));
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
    assert.equal((await rejection(ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })))).name, "InvalidSnapshot.NotFound");
    assert.equal(fake.state.snapshots.size, 0);
  });

  it("DeregisterImage with DeleteAssociatedSnapshots removes the image's snapshot", async (t) => {
    const { fake, tick } = await steppedFake(t);
    const { ec2 } = clients(fake);
    const snapshotId = await importedSnapshot(ec2, tick);
    const { ImageId } = await ec2.send(new RegisterImageCommand(modernImage(snapshotId, "with-snapshot")));
    const result = await ec2.send(new DeregisterImageCommand({ ImageId: ImageId ?? "", DeleteAssociatedSnapshots: true }));
    assert.equal(result.Return, true);
    assert.deepEqual(result.DeleteSnapshotResults, [{ SnapshotId: snapshotId, ReturnCode: "success" }]);
    assert.equal(fake.state.snapshots.has(snapshotId), false);
  });

  it("CreateTags tags snapshots, images and import tasks; DescribeSnapshots filters on them", async (t) => {
    const { fake, tick } = await steppedFake(t);
    const { ec2 } = clients(fake);
    const snapshotId = await importedSnapshot(ec2, tick);
    const untagged = await importedSnapshot(ec2, tick, "nixos/other.raw");
    const { ImageId } = await ec2.send(new RegisterImageCommand(modernImage(snapshotId, "tag-me", { TagSpecifications: [] })));
    const taskId = [...fake.state.importTasks.keys()][0] ?? assert.fail("no task");
    await ec2.send(
      new CreateTagsCommand({ Resources: [snapshotId, ImageId ?? "", taskId], Tags: [{ Key: "clawdinators:identity", Value: "abc" }] }),
    );
    const snapshots = async (input: DescribeSnapshotsCommandInput): Promise<string[]> =>
      ((await ec2.send(new DescribeSnapshotsCommand(input))).Snapshots ?? []).map((snapshot) => snapshot.SnapshotId ?? "").sort();
    assert.deepEqual(await snapshots({ OwnerIds: ["self"], Filters: [{ Name: "tag:clawdinators:identity", Values: ["abc"] }] }), [snapshotId]);
    assert.deepEqual(await snapshots({ Filters: [{ Name: "tag-key", Values: ["clawdinators:*"] }] }), [snapshotId]);
    assert.deepEqual(await snapshots({ OwnerIds: ["self"] }), [snapshotId, untagged].sort());
    const { Images } = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: "tag:clawdinators:identity", Values: ["abc"] }] }));
    assert.deepEqual(Images?.map((image) => image.ImageId), [ImageId]);
    assert.equal(fake.state.importTasks.get(taskId)?.tags.get("clawdinators:identity"), "abc");
    const unknown = await rejection(ec2.send(new CreateTagsCommand({ Resources: ["snap-0123456789abcdef0"], Tags: [{ Key: "a", Value: "b" }] })));
    assert.equal(unknown.name, "InvalidSnapshot.NotFound");
    const reserved = await rejection(ec2.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: [{ Key: "aws:x", Value: "b" }] })));
    assert.equal(reserved.name, "InvalidParameterValue");
  });

  it("DeleteTags removes a tag only while it has the value given, any value without one, every tag without a list", async (t) => {
    const { fake, tick } = await steppedFake(t);
    const { ec2 } = clients(fake);
    const snapshotId = await importedSnapshot(ec2, tick);
    const tags = [
      { Key: "a", Value: "1" },
      { Key: "b", Value: "2" },
      { Key: "c", Value: "3" },
    ];
    await ec2.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: tags }));
    const left = (): [string, string][] => [...(fake.state.snapshots.get(snapshotId)?.tags ?? [])];
    await ec2.send(new DeleteTagsCommand({ Resources: [snapshotId], Tags: [{ Key: "a", Value: "other" }, { Key: "b" }] }));
    assert.deepEqual(left(), [
      ["a", "1"],
      ["c", "3"],
    ]);
    await ec2.send(new DeleteTagsCommand({ Resources: [snapshotId] }));
    assert.deepEqual(left(), []);
    const unknown = await rejection(ec2.send(new DeleteTagsCommand({ Resources: ["ami-0123456789abcdef0"], Tags: [{ Key: "a" }] })));
    assert.equal(unknown.name, "InvalidAMIID.NotFound");
  });
});

describe("EBS direct APIs through the SDK", () => {
  it("StartSnapshot → PutSnapshotBlock → CompleteSnapshot, verified, then the snapshot completes and registers", async (t) => {
    const { fake, tick } = await steppedFake(t);
    const { ec2, ebs } = clients(fake);
    const started = await ebs.send(
      new StartSnapshotCommand({ VolumeSize: 2, ClientToken: "identity-abc", Description: "nixos", Timeout: 60, Tags: [{ Key: "k", Value: "v" }] }),
    );
    const snapshotId = started.SnapshotId ?? assert.fail("no SnapshotId");
    assert.deepEqual([started.Status, started.BlockSize, started.VolumeSize], ["pending", EBS_BLOCK_SIZE, 2]);
    assert.ok(started.StartTime instanceof Date);
    const again = await ebs.send(new StartSnapshotCommand({ VolumeSize: 2, ClientToken: "identity-abc", Description: "nixos", Timeout: 60, Tags: [{ Key: "k", Value: "v" }] }));
    assert.equal(again.SnapshotId, snapshotId);
    assert.equal((await rejection(ebs.send(new StartSnapshotCommand({ VolumeSize: 3, ClientToken: "identity-abc" })))).name, "ConflictException");

    const written = new Map([
      [4000, block(9)],
      [0, block(1)],
      [17, block(2)],
    ]);
    for (const [index, { data, checksum }] of written) {
      const put = await ebs.send(
        new PutSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: index, BlockData: data, DataLength: EBS_BLOCK_SIZE, Checksum: checksum, ChecksumAlgorithm: "SHA256", Progress: 50 }),
      );
      assert.equal(put.Checksum, checksum);
    }
    const aggregate = createHash("sha256");
    for (const index of [0, 17, 4000]) aggregate.update(written.get(index)?.digest ?? Buffer.alloc(0));
    const checksum = aggregate.digest("base64");
    assert.equal(linearAggregate(new Map([...written].map(([index, { digest }]) => [index, digest]))), checksum);

    const pendingImage = await rejection(ec2.send(new RegisterImageCommand(modernImage(snapshotId, "too-early"))));
    assert.equal(pendingImage.name, "IncorrectState");
    const completed = await ebs.send(
      new CompleteSnapshotCommand({ SnapshotId: snapshotId, ChangedBlocksCount: 3, Checksum: checksum, ChecksumAlgorithm: "SHA256", ChecksumAggregationMethod: "LINEAR" }),
    );
    assert.equal(completed.Status, "pending");
    const describe = async (): Promise<string | undefined> =>
      (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots?.[0]?.State;
    assert.equal(await describe(), "pending");
    tick(100);
    assert.equal(await describe(), "completed");
    const blocks = fake.blocks(snapshotId);
    assert.deepEqual([...blocks.keys()].sort((x, y) => x - y), [0, 17, 4000]);
    assert.ok(blocks.get(17)?.equals(block(2).data));
    const { ImageId } = await ec2.send(new RegisterImageCommand(modernImage(snapshotId, "from-ebs-direct")));
    assert.match(ImageId ?? "", /^ami-/);
    const { Snapshots } = await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: "tag:k", Values: ["v"] }] }));
    assert.deepEqual([Snapshots?.[0]?.SnapshotId, Snapshots?.[0]?.VolumeSize], [snapshotId, 2]);
  });

  it("rejects a bad block checksum, a short block, an index outside the volume, and a wrong count or aggregate", async (t) => {
    const { fake } = await steppedFake(t);
    const { ebs } = clients(fake, 1);
    const { SnapshotId } = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1 }));
    const snapshotId = SnapshotId ?? assert.fail("no id");
    const good = block(3);
    const put = (input: Partial<PutSnapshotBlockCommandInput>): Promise<unknown> =>
      ebs.send(
        new PutSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: 0, BlockData: good.data, DataLength: EBS_BLOCK_SIZE, Checksum: good.checksum, ChecksumAlgorithm: "SHA256", ...input }),
      );
    const badChecksum = await rejection(put({ Checksum: block(4).checksum }));
    assert.equal(badChecksum.name, "ValidationException");
    assert.equal(badChecksum.$metadata?.httpStatusCode, 400);
    assert.equal(badChecksum.Reason, "INVALID_BLOCK");
    const short = Buffer.alloc(4096, 3);
    assert.equal((await rejection(put({ BlockData: short, DataLength: 4096, Checksum: createHash("sha256").update(short).digest("base64") }))).name, "ValidationException");
    assert.equal((await rejection(put({ BlockIndex: 2048 }))).name, "ValidationException");
    assert.equal((await rejection(put({ SnapshotId: "snap-0123456789abcdef0" }))).name, "ResourceNotFoundException");
    await put({});
    assert.equal(fake.blocks(snapshotId).size, 1);

    const complete = (count: number, checksum: string): Promise<unknown> =>
      ebs.send(new CompleteSnapshotCommand({ SnapshotId: snapshotId, ChangedBlocksCount: count, Checksum: checksum, ChecksumAlgorithm: "SHA256", ChecksumAggregationMethod: "LINEAR" }));
    const rightAggregate = createHash("sha256").update(good.digest).digest("base64");
    assert.equal((await rejection(complete(2, rightAggregate))).name, "ValidationException");
    // The per-block checksum itself is not the aggregate (a common mistake).
    assert.equal((await rejection(complete(1, good.checksum))).name, "ValidationException");
    await complete(1, rightAggregate);
    assert.equal((await rejection(put({ BlockIndex: 1 }))).name, "ValidationException", "no writes after completion");
  });

  it("rejectBlockWritesFor answers ResourceNotFoundException right after StartSnapshot, then accepts", async (t) => {
    const { fake, tick } = await steppedFake(t);
    const { ebs } = clients(fake, 1);
    fake.faults.rejectBlockWritesFor(2000);
    const { SnapshotId } = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1 }));
    const good = block(5);
    const put = (): Promise<unknown> =>
      ebs.send(new PutSnapshotBlockCommand({ SnapshotId, BlockIndex: 3, BlockData: good.data, DataLength: EBS_BLOCK_SIZE, Checksum: good.checksum, ChecksumAlgorithm: "SHA256" }));
    const early = await rejection(put());
    assert.equal(early.name, "ResourceNotFoundException");
    assert.equal(early.Reason, "SNAPSHOT_NOT_FOUND");
    tick(2000);
    await put();
    assert.equal(fake.blocks(SnapshotId ?? "").size, 1);
  });
});

describe("fault injection seen by the SDK", () => {
  it("throttle: EC2 answers 503 RequestLimitExceeded; the SDK retries through it", async (t) => {
    const fake = await startEc2Fake();
    t.after(() => fake.close());
    fake.faults.throttle("DescribeImages", 1);
    const once = await rejection(clients(fake, 1).ec2.send(new DescribeImagesCommand({})));
    assert.equal(once.name, "RequestLimitExceeded");
    assert.equal(once.$metadata?.httpStatusCode, 503);

    fake.faults.throttle("DescribeImages", 1);
    const { Images } = await clients(fake, 2).ec2.send(new DescribeImagesCommand({}));
    assert.deepEqual(Images, []);
    assert.deepEqual(fake.calls.filter((call) => call.action === "DescribeImages").map((call) => call.fault), ["throttle", "throttle", undefined]);
  });

  it("throttle: EBS answers RequestThrottledException", async (t) => {
    const fake = await startEc2Fake();
    t.after(() => fake.close());
    fake.faults.throttle("StartSnapshot", 1);
    const error = await rejection(clients(fake, 1).ebs.send(new StartSnapshotCommand({ VolumeSize: 1 })));
    assert.equal(error.name, "RequestThrottledException");
    assert.equal(error.Reason, "ACCOUNT_THROTTLED");
    assert.equal(fake.state.snapshots.size, 0);
  });

  it("resetConnection: the socket drops mid-request; a retry with a Buffer body gets the block through", async (t) => {
    const fake = await startEc2Fake();
    t.after(() => fake.close());
    fake.faults.resetConnection("DescribeSnapshots", 1);
    const dropped = await rejection(clients(fake, 1).ec2.send(new DescribeSnapshotsCommand({})));
    assert.equal(dropped.code, "ECONNRESET");

    const { ebs } = clients(fake, 3);
    const { SnapshotId } = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1 }));
    fake.faults.resetConnection("PutSnapshotBlock", 1);
    const good = block(6);
    await ebs.send(new PutSnapshotBlockCommand({ SnapshotId, BlockIndex: 0, BlockData: good.data, DataLength: EBS_BLOCK_SIZE, Checksum: good.checksum, ChecksumAlgorithm: "SHA256" }));
    assert.deepEqual(fake.calls.filter((call) => call.action === "PutSnapshotBlock").map((call) => call.fault), ["reset", undefined]);
    assert.ok(fake.blocks(SnapshotId ?? "").get(0)?.equals(good.data));
  });
});
