// Retention: the upstream kept every image in S3 and every snapshot forever. Here the images of a
// name prefix (a family) beyond the newest `keep` are removed with their parts, and snapshots this
// pipeline tagged that no AMI uses are swept once older than a grace period. Retention must never
// remove what runs, so an image is never removed when it is:
//  - the newest of its family (whatever `keep` says),
//  - protected by the caller (the resource's current AMI; `--protect`, the fleet stack's `amiId`),
//  - used by an instance that is not terminated (DescribeInstances), or
//  - named by any version of any launch template in the account (DescribeLaunchTemplateVersions).
import {
  DeleteSnapshotCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  type DescribeLaunchTemplatesCommandOutput,
  DescribeLaunchTemplateVersionsCommand,
  type DescribeLaunchTemplateVersionsCommandOutput,
  DescribeSnapshotsCommand,
  type EC2Client,
  type Snapshot,
} from "@aws-sdk/client-ec2";
import type { S3Client } from "@aws-sdk/client-s3";
import { type RegisteredImage, toRegisteredImage } from "./adopt.ts";
import { removeImageParts } from "./delete.ts";
import { isAwsError } from "./errors.ts";
import type { Reporter } from "./progress.ts";
import { parseS3Source, TAG } from "./tags.ts";

/** Our images (tagged by this pipeline) of one name prefix, newest first. */
export async function listImages(ec2: EC2Client, namePrefix?: string): Promise<RegisteredImage[]> {
  const { Images = [] } = await ec2.send(
    new DescribeImagesCommand({
      Owners: ["self"],
      Filters: [namePrefix === undefined ? { Name: "tag-key", Values: [TAG.identity] } : { Name: `tag:${TAG.namePrefix}`, Values: [namePrefix] }],
    }),
  );
  const images = Images.filter((image) => image.State !== "deregistered").flatMap((image) => toRegisteredImage(image) ?? []);
  return images.sort((a, b) => b.creationDate.localeCompare(a.creationDate) || b.amiId.localeCompare(a.amiId));
}

/**
 * Which images retention may remove (before the in-use check): the family minus the newest, minus
 * `protect`, minus the newest `keep` of what is left. `images` is newest first. Pure, for tests.
 */
export function imagesToPrune(images: readonly RegisteredImage[], keep: number, protect: ReadonlySet<string> = new Set()): RegisteredImage[] {
  const newest = images[0]?.amiId;
  return images.filter((image) => !protect.has(image.amiId)).slice(keep).filter((image) => image.amiId !== newest);
}

/** Instance states in which an instance still needs (or may again need) its AMI. */
const LIVE_INSTANCE_STATES = ["pending", "running", "shutting-down", "stopping", "stopped"];

/**
 * Which of `amiIds` something in the account uses, with the reason. Instances are asked with an
 * `image-id` filter; launch templates are read version by version with `ResolveAlias` (an SSM
 * parameter as ImageId is shown as the AMI it resolves to) and checked here.
 */
export async function imagesInUse(ec2: EC2Client, amiIds: readonly string[]): Promise<Map<string, string>> {
  const used = new Map<string, string>();
  if (amiIds.length === 0) return used;
  const wanted = new Set(amiIds);
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "image-id", Values: [...amiIds] },
          { Name: "instance-state-name", Values: LIVE_INSTANCE_STATES },
        ],
        NextToken,
      }),
    );
    for (const instance of (page.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
      const state = instance.State?.Name ?? "";
      if (instance.ImageId && wanted.has(instance.ImageId) && LIVE_INSTANCE_STATES.includes(state))
        used.set(instance.ImageId, `used by instance ${instance.InstanceId ?? "?"} (${state})`);
    }
    NextToken = page.NextToken;
  } while (NextToken);

  const templates: { id: string; name: string }[] = [];
  let templatesToken: string | undefined;
  do {
    const page: DescribeLaunchTemplatesCommandOutput = await ec2.send(new DescribeLaunchTemplatesCommand({ NextToken: templatesToken }));
    for (const template of page.LaunchTemplates ?? []) if (template.LaunchTemplateId) templates.push({ id: template.LaunchTemplateId, name: template.LaunchTemplateName ?? "" });
    templatesToken = page.NextToken;
  } while (templatesToken);
  for (const template of templates) {
    let versionsToken: string | undefined;
    do {
      // Every version, not only $Default/$Latest: an Auto Scaling group may pin any of them.
      const page: DescribeLaunchTemplateVersionsCommandOutput = await ec2.send(
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: template.id, ResolveAlias: true, NextToken: versionsToken }),
      );
      for (const version of page.LaunchTemplateVersions ?? []) {
        const imageId = version.LaunchTemplateData?.ImageId;
        if (imageId && wanted.has(imageId) && !used.has(imageId))
          used.set(imageId, `named by launch template ${template.name || template.id} version ${version.VersionNumber ?? "?"}`);
      }
      versionsToken = page.NextToken;
    } while (versionsToken);
  }
  return used;
}

export interface PruneOptions {
  readonly namePrefix: string;
  /** Images kept besides the newest and the protected ones. */
  readonly keep: number;
  /** AMIs never removed: the current one, `--protect`, the fleet stack's output. */
  readonly protect?: readonly string[];
  /** Report what would go, remove nothing. */
  readonly dryRun?: boolean;
}

export interface PruneResult {
  /** Removed (or, on a dry run, what would be). */
  readonly removed: RegisteredImage[];
  /** Images past `keep` that were kept because something uses them, with why. */
  readonly spared: { readonly image: RegisteredImage; readonly reason: string }[];
}

export async function pruneImages(clients: { ec2: EC2Client; s3: S3Client }, options: PruneOptions, report: Reporter): Promise<PruneResult> {
  const candidates = imagesToPrune(await listImages(clients.ec2, options.namePrefix), options.keep, new Set(options.protect ?? []));
  // Only when something would go: a no-op run stays at one DescribeImages for retention.
  const inUse = await imagesInUse(
    clients.ec2,
    candidates.map((image) => image.amiId),
  );
  const spared = candidates.flatMap((image) => {
    const reason = inUse.get(image.amiId);
    return reason === undefined ? [] : [{ image, reason }];
  });
  const doomed = candidates.filter((image) => !inUse.has(image.amiId));
  for (const { image, reason } of spared) report({ step: "retention", message: `kept ${image.amiId} (${image.name}): ${reason}` });
  for (const image of doomed) {
    if (options.dryRun) {
      report({ step: "retention", message: `would remove ${image.amiId} (${image.name}, ${image.creationDate})` });
      continue;
    }
    const source = parseS3Source(image.tags.get(TAG.sourceKey) ?? "");
    await removeImageParts(clients, { amiId: image.amiId, snapshotId: image.snapshotId, bucket: source?.bucket, s3Key: source?.key });
    report({ step: "retention", message: `removed ${image.amiId} (${image.name}, ${image.creationDate})` });
  }
  return { removed: doomed, spared };
}

/** Snapshots tagged with a pipeline identity, older than the grace period, that no live AMI of ours uses. Pure, for tests. */
export function orphanSnapshots(snapshots: readonly Snapshot[], usedByImages: ReadonlySet<string>, now: number, graceMinutes: number): Snapshot[] {
  return snapshots.filter(
    (snapshot) =>
      snapshot.SnapshotId !== undefined &&
      !usedByImages.has(snapshot.SnapshotId) &&
      snapshot.StartTime !== undefined &&
      now - snapshot.StartTime.getTime() >= graceMinutes * 60_000,
  );
}

/**
 * Deletes snapshots this pipeline tagged (`clawdinator:identity`) that no AMI uses and that are
 * older than `graceMinutes` (an AMI deregistered by hand, a run killed between snapshot and
 * registration long ago, a failed completion). The grace period keeps it off the snapshot a run
 * elsewhere is writing or about to register right now.
 */
export async function sweepOrphanSnapshots(ec2: EC2Client, options: { graceMinutes: number; dryRun?: boolean }, report: Reporter): Promise<string[]> {
  const tagged: Snapshot[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters: [{ Name: "tag-key", Values: [TAG.identity] }], NextToken }));
    tagged.push(...(page.Snapshots ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  const old = orphanSnapshots(tagged, new Set(), Date.now(), options.graceMinutes);
  if (old.length === 0) return [];
  // Which of them an AMI still uses (ours or any other of this account: the filter is by snapshot).
  const used = new Set<string>();
  const ids = old.flatMap((snapshot) => (snapshot.SnapshotId ? [snapshot.SnapshotId] : []));
  for (let start = 0; start < ids.length; start += 200) {
    const { Images = [] } = await ec2.send(
      new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "block-device-mapping.snapshot-id", Values: ids.slice(start, start + 200) }] }),
    );
    for (const image of Images)
      if (image.State !== "deregistered") for (const mapping of image.BlockDeviceMappings ?? []) if (mapping.Ebs?.SnapshotId) used.add(mapping.Ebs.SnapshotId);
  }
  const swept: string[] = [];
  for (const snapshot of orphanSnapshots(old, used, Date.now(), options.graceMinutes)) {
    const id = snapshot.SnapshotId ?? "";
    const age = `${Math.round((Date.now() - (snapshot.StartTime?.getTime() ?? 0)) / 60_000)} min old`;
    if (options.dryRun) {
      report({ step: "retention", message: `would delete orphaned snapshot ${id} (${snapshot.State}, ${age})` });
      swept.push(id);
      continue;
    }
    try {
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: id }));
      report({ step: "retention", message: `deleted orphaned snapshot ${id} (${snapshot.State}, ${age})` });
      swept.push(id);
    } catch (error) {
      // In use by an AMI we cannot see (another account's copy), or gone already: not ours to force.
      if (!isAwsError(error, "InvalidSnapshot.InUse", "InvalidSnapshot.NotFound")) throw error;
    }
  }
  return swept;
}
