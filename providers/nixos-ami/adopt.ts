// Finding an AMI an earlier run (or another stack) already made for this identity, and the
// operator's own adopt/forget of an AMI.
import { CreateTagsCommand, DeleteTagsCommand, DescribeImagesCommand, type EC2Client, type Image } from "@aws-sdk/client-ec2";
import { ImagePipelineError, isAwsError } from "./errors.ts";
import type { ImageIdentity } from "./identity.ts";
import { factTags, type ImageFacts, TAG, tagMap } from "./tags.ts";

export interface RegisteredImage {
  readonly amiId: string;
  readonly snapshotId: string;
  readonly name: string;
  readonly creationDate: string;
  /** `available`, or `pending` right after RegisterImage. */
  readonly state: string;
  readonly tags: ReadonlyMap<string, string>;
}

export function toRegisteredImage(image: Image): RegisteredImage | undefined {
  if (!image.ImageId) return undefined;
  const root = image.BlockDeviceMappings?.find((mapping) => mapping.DeviceName === image.RootDeviceName) ?? image.BlockDeviceMappings?.[0];
  return {
    amiId: image.ImageId,
    snapshotId: root?.Ebs?.SnapshotId ?? "",
    name: image.Name ?? "",
    creationDate: image.CreationDate ?? "",
    state: image.State ?? "",
    tags: tagMap(image.Tags),
  };
}

/** The newest usable (available or pending) AMI of ours tagged with `identity`, if any. */
export async function findImageByIdentity(ec2: EC2Client, identity: string): Promise<RegisteredImage | undefined> {
  const { Images = [] } = await ec2.send(
    new DescribeImagesCommand({
      Owners: ["self"],
      Filters: [
        { Name: `tag:${TAG.identity}`, Values: [identity] },
        { Name: "state", Values: ["available", "pending"] },
      ],
    }),
  );
  const found = Images.flatMap((image) => toRegisteredImage(image) ?? []);
  found.sort((a, b) => b.creationDate.localeCompare(a.creationDate));
  return found[0];
}

export async function describeImage(ec2: EC2Client, amiId: string): Promise<RegisteredImage | undefined> {
  try {
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [amiId] }));
    const image = Images.find((candidate) => candidate.State !== "deregistered");
    return image ? toRegisteredImage(image) : undefined;
  } catch (error) {
    if (isAwsError(error, "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable")) return undefined;
    throw error;
  }
}

/**
 * `clawdinator image adopt`: the operator vouches that `amiId` is the image of `identity`; the AMI
 * and its root snapshot get the tags every later run finds it by (resolves NAME_TAKEN). Facts the
 * AMI does not prove (the image's SHA-256 of a flake build, its size) keep what its tags say.
 */
export async function adoptImage(
  ec2: EC2Client,
  request: { amiId: string; identity: ImageIdentity; namePrefix: string },
): Promise<RegisteredImage> {
  const image = await describeImage(ec2, request.amiId);
  if (image === undefined)
    throw new ImagePipelineError("INVALID_INPUT", `${request.amiId} does not exist in this region (or is deregistered)`, { amiId: request.amiId }, { phase: "adopt", resource: request.amiId, fix: "check --ami and --region" });
  const tagged = image.tags.get(TAG.identity);
  if (tagged !== undefined && tagged !== request.identity.identity)
    throw new ImagePipelineError("INVALID_INPUT", `${request.amiId} is already tagged with another identity (${tagged})`, { amiId: request.amiId }, {
      phase: "adopt",
      resource: request.amiId,
      fix: `run \`clawdinator image forget --ami ${request.amiId}\` first if it really is this image`,
    });
  const facts: ImageFacts = {
    identity: request.identity.identity,
    closure: request.identity.closure || (image.tags.get(TAG.closure) ?? ""),
    imageSha256: request.identity.imageSha256 || (image.tags.get(TAG.imageSha256) ?? ""),
    sourceKey: image.tags.get(TAG.sourceKey) ?? "adopted",
    sizeBytes: Number(image.tags.get(TAG.sizeBytes) ?? 0),
    namePrefix: request.namePrefix,
    importMethod: image.tags.get(TAG.importMethod) ?? "adopted",
  };
  const tags = factTags(facts, image.name, {});
  await ec2.send(new CreateTagsCommand({ Resources: [image.amiId, ...(image.snapshotId ? [image.snapshotId] : [])], Tags: tags }));
  return { ...image, tags: new Map([...image.tags, ...tags.map((tag) => [tag.Key ?? "", tag.Value ?? ""] as const)]) };
}

/**
 * `clawdinator image forget`: removes the pipeline's `clawdinator:` tags from the AMI and its root
 * snapshot. The pipeline then neither adopts nor prunes it, and the orphan sweep skips its
 * snapshot; the AMI itself is left alone (deregister it with the AWS CLI if it should go).
 */
export async function forgetImage(ec2: EC2Client, amiId: string): Promise<{ image: RegisteredImage; removedKeys: string[] }> {
  const image = await describeImage(ec2, amiId);
  if (image === undefined)
    throw new ImagePipelineError("INVALID_INPUT", `${amiId} does not exist in this region (or is deregistered)`, { amiId }, { phase: "adopt", resource: amiId, fix: "check --ami and --region" });
  const keys = Object.values(TAG);
  await ec2.send(new DeleteTagsCommand({ Resources: [image.amiId, ...(image.snapshotId ? [image.snapshotId] : [])], Tags: keys.map((Key) => ({ Key })) }));
  return { image, removedKeys: keys.filter((key) => image.tags.has(key)) };
}
