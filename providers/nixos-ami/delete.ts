// Removing an image: AMI, snapshot, S3 object. Whatever is already gone counts as removed.
import { DeleteObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { DeleteSnapshotCommand, DeregisterImageCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { isAwsError } from "./errors.ts";

export interface ImageParts {
  readonly amiId?: string;
  readonly snapshotId?: string;
  readonly bucket?: string;
  readonly s3Key?: string;
}

export interface RemovedParts {
  readonly ami: boolean;
  readonly snapshot: boolean;
  readonly object: boolean;
}

export async function removeImageParts(clients: { ec2: EC2Client; s3: S3Client }, parts: ImageParts): Promise<RemovedParts> {
  const ami = parts.amiId
    ? await gone(() => clients.ec2.send(new DeregisterImageCommand({ ImageId: parts.amiId })), "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable")
    : false;
  // The snapshot is in use by the AMI until it is deregistered, hence this order.
  const snapshot = parts.snapshotId ? await deleteSnapshot(clients.ec2, parts.snapshotId) : false;
  const object =
    parts.bucket && parts.s3Key
      ? await gone(() => clients.s3.send(new DeleteObjectCommand({ Bucket: parts.bucket, Key: parts.s3Key })), "NoSuchKey", "NoSuchBucket")
      : false;
  return { ami, snapshot, object };
}

/** Deletes a snapshot; false when it did not exist. */
export function deleteSnapshot(ec2: EC2Client, snapshotId: string): Promise<boolean> {
  return gone(() => ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })), "InvalidSnapshot.NotFound");
}

/** Runs `action`; true if it did something, false if AWS said the thing was already gone. */
async function gone(action: () => Promise<unknown>, ...notFoundCodes: string[]): Promise<boolean> {
  try {
    await action();
    return true;
  } catch (error) {
    if (isAwsError(error, ...notFoundCodes)) return false;
    throw error;
  }
}
