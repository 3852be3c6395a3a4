// Retention: the upstream kept every image in S3 and every snapshot forever. Here the images of a
// name prefix beyond the newest `keep` (besides the current one) are removed, with their parts.
import { DescribeImagesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import type { S3Client } from "@aws-sdk/client-s3";
import { type RegisteredImage, toRegisteredImage } from "./adopt.ts";
import { removeImageParts } from "./delete.ts";
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

/** Which images to remove: everything past the newest `keep`, never `currentAmiId`. Pure, for tests. */
export function imagesToPrune(images: readonly RegisteredImage[], keep: number, currentAmiId?: string): RegisteredImage[] {
  const older = images.filter((image) => image.amiId !== currentAmiId);
  return older.slice(keep);
}

export async function pruneImages(
  clients: { ec2: EC2Client; s3: S3Client },
  options: { namePrefix: string; keep: number; currentAmiId?: string },
  report: Reporter,
): Promise<RegisteredImage[]> {
  const doomed = imagesToPrune(await listImages(clients.ec2, options.namePrefix), options.keep, options.currentAmiId);
  for (const image of doomed) {
    const source = parseS3Source(image.tags.get(TAG.sourceKey) ?? "");
    await removeImageParts(clients, { amiId: image.amiId, snapshotId: image.snapshotId, bucket: source?.bucket, s3Key: source?.key });
    report({ step: "retention", message: `removed ${image.amiId} (${image.name}, ${image.creationDate})` });
  }
  return doomed;
}
