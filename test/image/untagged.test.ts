// An AMI with the pipeline's name but without its identity tag (issue 15): adopted and tagged when
// its snapshot proves it is this image; otherwise NAME_TAKEN says exactly how to resolve it, and
// `clawdinator image adopt` / `image forget` do that.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CompleteSnapshotCommand, EBSClient, StartSnapshotCommand } from "@aws-sdk/client-ebs";
import { DeleteTagsCommand, EC2Client, RegisterImageCommand } from "@aws-sdk/client-ec2";
import { ImagePipelineError } from "../../providers/nixos-ami/errors.ts";
import { nixosAmiProvider } from "../../providers/nixos-ami/provider.ts";
import type { NixosAmiState } from "../../providers/nixos-ami/types.ts";
import { identityDigest, imageName, imageSource, resolveIdentity } from "../../providers/nixos-ami/steps.ts";
import { runCliInProcess } from "../helpers/cli.ts";
import { REGION, startWorld, type World } from "./harness.ts";

async function create(world: World, namePrefix: string): Promise<NixosAmiState> {
  const checked = await nixosAmiProvider.check({}, world.inputs({ importMethod: "ebs-direct", namePrefix }));
  assert.deepEqual(checked.failures, []);
  return (await nixosAmiProvider.create(checked.inputs ?? {})).outs as NixosAmiState;
}

/** `clawdinator ARGS` in this process: adopt and forget are the subject here, not the process. */
const runCli = (args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}) => runCliInProcess(args, options);

describe("an AMI with our name but no identity tag", () => {
  let world: World;
  let ec2: EC2Client;
  let ebs: EBSClient;
  before(async () => {
    world = await startWorld({ seed: "untagged", sizeMiB: 2, dataMiB: 2, s3: false });
    const config = { region: REGION, endpoint: world.ec2.endpoint, credentials: { accessKeyId: "x", secretAccessKey: "y" } };
    ec2 = new EC2Client(config);
    ebs = new EBSClient(config);
  });
  after(async () => {
    ec2.destroy();
    ebs.destroy();
    await world.close();
  });

  it("is adopted and tagged when its snapshot proves it is this image", async () => {
    const first = await create(world, "proven");
    // Its tags are lost (an earlier pipeline, a hand edit): only the name and the snapshot remain.
    await ec2.send(new DeleteTagsCommand({ Resources: [first.amiId] }));
    assert.equal(world.ec2.state.images.get(first.amiId)?.tags.size, 0);
    const started = world.ec2.count("StartSnapshot");
    const again = await create(world, "proven");
    assert.equal(again.amiId, first.amiId, "the same AMI, not an error");
    assert.equal(again.snapshotId, first.snapshotId);
    assert.equal(world.ec2.count("StartSnapshot"), started, "the completed snapshot was reused, nothing rewritten");
    assert.equal(world.ec2.state.images.get(first.amiId)?.tags.get("clawdinator:identity"), first.identity, "tagged again");
    assert.deepEqual(world.liveImages(), [first.amiId]);
  });

  it("otherwise NAME_TAKEN says how to resolve it; `image adopt` resolves it, `image forget` undoes it", async () => {
    await world.nix.configure({ seed: "unproven", sizeMiB: 2, dataMiB: 2 });
    const { identity } = await resolveIdentity(imageSource({ flake: "/src/clawdinators", nixosConfiguration: "clawdinator-1", nixBinary: world.nix.binary }));
    const name = imageName("unproven", identityDigest(identity));
    // Someone registered an AMI under that name from a snapshot nothing ties to this image.
    const { SnapshotId: foreign } = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, ClientToken: "foreign-root", Timeout: 60 }));
    assert.ok(foreign);
    await ebs.send(new CompleteSnapshotCommand({ SnapshotId: foreign, ChangedBlocksCount: 0 }));
    await new Promise((resolve) => setTimeout(resolve, 100)); // the fake settles a completion after 50 ms
    const { ImageId: squatter } = await ec2.send(
      new RegisterImageCommand({
        Name: name,
        Architecture: "x86_64",
        VirtualizationType: "hvm",
        RootDeviceName: "/dev/xvda",
        BootMode: "uefi",
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: foreign } }],
      }),
    );
    assert.ok(squatter);

    await assert.rejects(create(world, "unproven"), (error: unknown) => {
      assert.ok(error instanceof ImagePipelineError, String(error));
      assert.equal(error.code, "NAME_TAKEN");
      assert.equal(error.phase, "register");
      assert.equal(error.resource, squatter);
      assert.match(error.message, new RegExp(`root snapshot ${foreign} carries none either`));
      assert.match(error.fix ?? "", new RegExp(`clawdinator image adopt --ami ${squatter} --region ${REGION}`));
      assert.match(error.fix ?? "", /aws ec2 deregister-image/);
      return true;
    });
    assert.equal(world.ec2.state.images.get(squatter)?.tags.size, 0, "not tagged without proof");

    const env = world.cliEnv();
    const adopted = await runCli(
      ["image", "adopt", "--ami", squatter, "--flake", "/src/clawdinators", "--configuration", "clawdinator-1", "--nix", world.nix.binary, "--name-prefix", "unproven", "--json"],
      { env },
    );
    assert.equal(adopted.code, 0, adopted.stderr);
    assert.deepEqual(JSON.parse(adopted.stdout), { adopted: squatter, name, snapshotId: foreign, identity });
    const outs = await create(world, "unproven");
    assert.equal(outs.amiId, squatter, "the next run adopts it by its tag");
    assert.equal(outs.snapshotId, foreign, "and records its real snapshot");

    const forgotten = await runCli(["image", "forget", "--ami", squatter, "--json"], { env });
    assert.equal(forgotten.code, 0, forgotten.stderr);
    assert.match((JSON.parse(forgotten.stdout) as { removedTags: string }).removedTags, /clawdinator:identity/);
    assert.equal([...(world.ec2.state.images.get(squatter)?.tags.keys() ?? [])].filter((key) => key.startsWith("clawdinator:")).length, 0);
    const listed = await runCli(["image", "ls", "--name-prefix", "unproven", "--json"], { env });
    assert.deepEqual(JSON.parse(listed.stdout), [], "no longer the pipeline's: never pruned");
    const badAmi = await runCli(["image", "forget", "--ami", "nope"], { env });
    assert.equal(badAmi.code, 2);
    assert.match(badAmi.stderr, /--ami needs an AMI id/);
  });
});
