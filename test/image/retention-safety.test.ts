// Retention that can never delete what runs (issue 15): never the newest image, never one an
// instance or a launch template uses, never the fleet stack's AMI or a --protect'ed one; --keep is
// at least 1; a terminal gets a dry run unless --yes; orphaned snapshots of ours are swept after a
// grace period; a new namePrefix really moves the image to the new family.
import assert from "node:assert/strict";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DeregisterImageCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { EBSClient, StartSnapshotCommand } from "@aws-sdk/client-ebs";
import { nixosAmiProvider } from "../../providers/nixos-ami/provider.ts";
import type { NixosAmiState } from "../../providers/nixos-ami/types.ts";
import { runCliInProcess } from "../helpers/cli.ts";
import { REGION, startWorld, type World } from "./harness.ts";

async function createImage(world: World, seed: string, overrides: Record<string, unknown> = {}): Promise<NixosAmiState> {
  await world.nix.configure({ seed, sizeMiB: 2, dataMiB: 2 });
  const checked = await nixosAmiProvider.check({}, world.inputs({ importMethod: "ebs-direct", ...overrides }));
  assert.deepEqual(checked.failures, []);
  return (await nixosAmiProvider.create(checked.inputs ?? {})).outs as NixosAmiState;
}

function sdkConfig(world: World) {
  return { region: REGION, endpoint: world.ec2.endpoint, credentials: { accessKeyId: "x", secretAccessKey: "y" } };
}

const live = (world: World, state: NixosAmiState): boolean => world.liveImages().includes(state.amiId);

/** `clawdinator ARGS` in this process: prune's choices are the subject here, not the process around them. */
const runCli = (args: readonly string[], options: { env?: NodeJS.ProcessEnv; terminal?: boolean } = {}) => runCliInProcess(args, options);

describe("retention never removes what runs", () => {
  let world: World;
  let ec2: EC2Client;
  before(async () => {
    world = await startWorld({ seed: "safety", sizeMiB: 2, dataMiB: 2, s3: false });
    ec2 = new EC2Client(sdkConfig(world));
  });
  after(async () => {
    ec2.destroy();
    await world.close();
  });

  it("the newest image stays even when the current one is older and keep is 0", async () => {
    const older = await createImage(world, "n1", { namePrefix: "newest", keep: 5 });
    const newer = await createImage(world, "n2", { namePrefix: "newest", keep: 5 });
    // The stack rolls back to the older image with keep 0: the newer one may be another stack's.
    const checked = await nixosAmiProvider.check({}, world.inputs({ importMethod: "ebs-direct", namePrefix: "newest", keep: 0 }));
    await nixosAmiProvider.update(older.amiId, older, checked.inputs ?? {});
    assert.ok(live(world, older), "the current image stays");
    assert.ok(live(world, newer), "the newest image stays");
  });

  it("prune --keep 0 is refused with a clear error; --keep 1 keeps the newest", async () => {
    const refused = await runCli(["image", "prune", "--name-prefix", "newest", "--keep", "0", "--yes"], { env: world.cliEnv() });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--keep must be at least 1/);
    const newest = world.liveImages().filter((id) => world.ec2.state.images.get(id)?.name.startsWith("newest-"));
    assert.equal(newest.length, 2, "nothing was removed");
  });

  it("images used by an instance or any launch template version are kept, with the reason; a terminated instance does not count", async () => {
    const made: NixosAmiState[] = [];
    for (const seed of ["u1", "u2", "u3", "u4"]) made.push(await createImage(world, seed, { namePrefix: "used", keep: 10 }));
    const [oldest, second, third, newest] = made;
    assert.ok(oldest && second && third && newest);
    const run = await ec2.send(new RunInstancesCommand({ ImageId: oldest.amiId, MinCount: 1, MaxCount: 1, InstanceType: "t3.small" }));
    const instanceId = run.Instances?.[0]?.InstanceId;
    assert.ok(instanceId);
    // The AMI is in a non-default, non-latest version (an Auto Scaling group may pin it).
    await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: "fleet", LaunchTemplateData: { ImageId: second.amiId } }));
    await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateName: "fleet", LaunchTemplateData: { ImageId: newest.amiId } }));

    const pruned = await runCli(["image", "prune", "--name-prefix", "used", "--keep", "1", "--yes"], { env: world.cliEnv() });
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /^removed: (ami-[0-9a-f]{17})$/m);
    assert.equal(/^removed: (ami-[0-9a-f]{17})$/m.exec(pruned.stdout)?.[1], third.amiId, "only the unused one went");
    assert.match(pruned.stdout, new RegExp(`keptInUse: .*${oldest.amiId} \\(used by instance ${instanceId} \\(running\\)\\)`));
    assert.match(pruned.stdout, new RegExp(`${second.amiId} \\(named by launch template fleet version 1\\)`));
    assert.ok(live(world, oldest) && live(world, second) && live(world, newest));
    assert.ok(world.ec2.state.snapshots.has(oldest.snapshotId), "its snapshot too");

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    const again = await runCli(["image", "prune", "--name-prefix", "used", "--keep", "1", "--yes"], { env: world.cliEnv() });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(/^removed: (.*)$/m.exec(again.stdout)?.[1], oldest.amiId, "a terminated instance protects nothing");
    assert.ok(live(world, second), "the launch template still protects its AMI");
  });

  it("the fleet stack's amiId (read with the pulumi CLI) and --protect'ed AMIs are kept", async () => {
    const made: NixosAmiState[] = [];
    for (const seed of ["f1", "f2", "f3", "f4"]) made.push(await createImage(world, seed, { namePrefix: "fleet", keep: 10 }));
    const [oldest, second, third] = made;
    assert.ok(oldest && second && third);
    // A stand-in `pulumi` first on PATH: `pulumi stack output --json --stack fleet` prints the outputs.
    const bin = path.join(world.dir, "bin");
    await mkdir(bin, { recursive: true });
    const log = path.join(world.dir, "pulumi.log");
    await writeFile(path.join(bin, "pulumi"), `#!/bin/sh\necho "$@" >> '${log}'\necho '{"amiId": "${oldest.amiId}", "hiveMindId": "fs-1"}'\n`);
    await chmod(path.join(bin, "pulumi"), 0o755);
    const env = world.cliEnv({ PATH: `${bin}:${process.env.PATH ?? ""}` });
    const pruned = await runCli(["image", "prune", "--name-prefix", "fleet", "--keep", "1", "--fleet-stack", "fleet", "--protect", second.amiId, "--yes"], { env });
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.equal(/^removed: (.*)$/m.exec(pruned.stdout)?.[1], third.amiId);
    assert.match(pruned.stdout, new RegExp(`^protected: ${second.amiId} ${oldest.amiId}$`, "m"));
    assert.ok(live(world, oldest) && live(world, second));

    const noPulumi = await runCli(["image", "prune", "--name-prefix", "fleet", "--keep", "1", "--fleet-stack", "fleet", "--yes"], {
      env: world.cliEnv({ PATH: "/nonexistent" }),
    });
    assert.equal(noPulumi.code, 2, "no pruning without the protection asked for");
    assert.match(noPulumi.stderr, /pulumi CLI is not on PATH.*--protect ami-/);
  });

  it("on a terminal prune is a dry run unless --yes", async () => {
    const made: NixosAmiState[] = [];
    for (const seed of ["t1", "t2", "t3"]) made.push(await createImage(world, seed, { namePrefix: "tty", keep: 10 }));
    const [oldest] = made;
    assert.ok(oldest);
    const dry = await runCli(["image", "prune", "--name-prefix", "tty", "--keep", "2"], { env: world.cliEnv(), terminal: true });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^wouldRemove: ${oldest.amiId}$`, "m"));
    assert.match(dry.stderr, /run again with --yes/);
    assert.ok(live(world, oldest), "nothing removed");
    const yes = await runCli(["image", "prune", "--name-prefix", "tty", "--keep", "2", "--yes"], { env: world.cliEnv(), terminal: true });
    assert.match(yes.stdout, new RegExp(`^removed: ${oldest.amiId}$`, "m"));
    assert.ok(!live(world, oldest));
  });
});

describe("orphaned snapshots", () => {
  let world: World;
  let ec2: EC2Client;
  before(async () => {
    world = await startWorld({ seed: "orphans", sizeMiB: 2, dataMiB: 2, s3: false });
    ec2 = new EC2Client(sdkConfig(world));
  });
  after(async () => {
    ec2.destroy();
    await world.close();
  });

  it("a snapshot of ours whose AMI was deregistered elsewhere is swept after the grace period; others' are not", async () => {
    const kept = await createImage(world, "o1", { namePrefix: "orphan" });
    const abandoned = await createImage(world, "o2", { namePrefix: "orphan" });
    // Deregistered by hand: its snapshot stays, tagged with our identity.
    await ec2.send(new DeregisterImageCommand({ ImageId: abandoned.amiId }));
    // Someone else's snapshot in the account: never ours to delete.
    const ebs = new EBSClient(sdkConfig(world));
    const foreign = (await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, ClientToken: "foreign", Timeout: 60, Tags: [{ Key: "team", Value: "other" }] }))).SnapshotId;
    ebs.destroy();
    assert.ok(foreign);

    const early = await runCli(["image", "prune", "--name-prefix", "orphan", "--keep", "1", "--yes"], { env: world.cliEnv() });
    assert.equal(early.code, 0, early.stderr);
    assert.match(early.stdout, /^deletedSnapshots: nothing$/m, "within the default grace period of a day");
    assert.ok(world.ec2.state.snapshots.has(abandoned.snapshotId));

    const dry = await runCli(["image", "prune", "--name-prefix", "orphan", "--keep", "1", "--grace", "0s", "--dry-run"], { env: world.cliEnv() });
    assert.match(dry.stdout, new RegExp(`^wouldDeleteSnapshots: ${abandoned.snapshotId}$`, "m"));
    assert.ok(world.ec2.state.snapshots.has(abandoned.snapshotId));

    const swept = await runCli(["image", "prune", "--name-prefix", "orphan", "--keep", "1", "--grace", "0s", "--yes"], { env: world.cliEnv() });
    assert.equal(swept.code, 0, swept.stderr);
    assert.match(swept.stdout, new RegExp(`^deletedSnapshots: ${abandoned.snapshotId}$`, "m"));
    assert.equal(world.ec2.state.snapshots.has(abandoned.snapshotId), false);
    assert.ok(world.ec2.state.snapshots.has(kept.snapshotId), "a snapshot an AMI uses stays");
    assert.ok(world.ec2.state.snapshots.has(foreign), "a snapshot without our tags stays");
  });

  it("the resource sweeps too, after a run that made an image", async () => {
    const abandoned = await createImage(world, "o3", { namePrefix: "orphan" });
    await ec2.send(new DeregisterImageCommand({ ImageId: abandoned.amiId }));
    await createImage(world, "o4", { namePrefix: "orphan", tuning: { orphanGraceMinutes: 1e-9 } });
    assert.equal(world.ec2.state.snapshots.has(abandoned.snapshotId), false);
  });
});

describe("a new namePrefix", () => {
  let world: World;
  before(async () => {
    world = await startWorld({ seed: "rename", sizeMiB: 2, dataMiB: 2, s3: false });
  });
  after(() => world.close());

  it("moves the image to the new family by its tag, so the old family's prune cannot touch it", async () => {
    const outs = await createImage(world, "rename", { namePrefix: "before" });
    const checked = await nixosAmiProvider.check({}, world.inputs({ importMethod: "ebs-direct", namePrefix: "after" }));
    const updated = (await nixosAmiProvider.update(outs.amiId, outs, checked.inputs ?? {})).outs as NixosAmiState;
    assert.equal(updated.amiId, outs.amiId, "same AMI: instances are not replaced for a name");
    assert.equal(updated.namePrefix, "after");
    const image = world.ec2.state.images.get(outs.amiId);
    assert.equal(image?.tags.get("clawdinator:name-prefix"), "after", "the AMI says what the state says");
    assert.equal(world.ec2.state.snapshots.get(outs.snapshotId)?.tags.get("clawdinator:name-prefix"), "after");
    assert.match(image?.name ?? "", /^before-/, "EC2 cannot rename an AMI: it keeps its registered name");

    const listed = await runCli(["image", "ls", "--name-prefix", "before", "--json"], { env: world.cliEnv() });
    assert.deepEqual(JSON.parse(listed.stdout), []);
    const pruned = await runCli(["image", "prune", "--name-prefix", "before", "--keep", "1", "--yes"], { env: world.cliEnv() });
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.ok(live(world, outs));
    const inNew = await runCli(["image", "ls", "--name-prefix", "after", "--json"], { env: world.cliEnv() });
    assert.deepEqual((JSON.parse(inNew.stdout) as { amiId: string }[]).map((image) => image.amiId), [outs.amiId]);
  });
});
