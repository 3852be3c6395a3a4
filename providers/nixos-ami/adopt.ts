// Finding an AMI an earlier run (or another stack) already made for this identity.
import { DescribeImagesCommand, type EC2Client, type Image } from "@aws-sdk/client-ec2";
import { isAwsError } from "./errors.ts";
import { TAG, tagMap } from "./tags.ts";

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
