// Multipart upload of the raw image to S3 (for vm-import), skipped when the object is already there.
import { createReadStream } from "node:fs";
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { isAwsError } from "./errors.ts";
import type { Reporter } from "./progress.ts";

/** The object metadata key (`x-amz-meta-sha256`) holding the image's SHA-256, checked before uploading. */
const SHA256_METADATA = "sha256";
const IDENTITY_METADATA = "identity";

export interface UploadRequest {
  readonly bucket: string;
  readonly key: string;
  readonly filePath: string;
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly identity: string;
  readonly partSizeMiB: number;
  readonly queueSize: number;
}

export interface UploadResult {
  /** False when an object with the same SHA-256 was already in place. */
  readonly uploaded: boolean;
}

export function objectKey(keyPrefix: string, digest: string, format: string): string {
  return `${keyPrefix}${digest}.${format}`;
}

export async function uploadImage(s3: S3Client, request: UploadRequest, report: Reporter, signal?: AbortSignal): Promise<UploadResult> {
  if ((await existingSha256(s3, request.bucket, request.key)) === request.sha256) {
    report({ step: "upload", message: `s3://${request.bucket}/${request.key} already holds this image`, percent: 100 });
    return { uploaded: false };
  }
  // S3 allows 10,000 parts: grow the part size for very large images.
  const partSize = Math.max(request.partSizeMiB * 2 ** 20, Math.ceil(request.sizeBytes / 9_000), 5 * 2 ** 20);
  const upload = new Upload({
    client: s3,
    queueSize: request.queueSize,
    partSize,
    leavePartsOnError: false,
    params: {
      Bucket: request.bucket,
      Key: request.key,
      // Node's default 64 KiB reads: lib-storage copies the chunks into parts anyway, and small
      // chunks reuse memory where 1 MiB ones each touched fresh pages (~2.5x the CPU per byte).
      Body: createReadStream(request.filePath),
      ContentType: "application/octet-stream",
      Metadata: { [SHA256_METADATA]: request.sha256, [IDENTITY_METADATA]: request.identity },
    },
  });
  upload.on("httpUploadProgress", (progress) => {
    if (progress.loaded !== undefined && request.sizeBytes > 0)
      report({
        step: "upload",
        message: `s3://${request.bucket}/${request.key}`,
        percent: Math.min(100, (progress.loaded / request.sizeBytes) * 100),
        bytes: { done: progress.loaded, total: request.sizeBytes },
      });
  });
  const abort = (): void => void upload.abort();
  signal?.addEventListener("abort", abort, { once: true });
  try {
    await upload.done();
  } finally {
    signal?.removeEventListener("abort", abort);
  }
  return { uploaded: true };
}

/** The SHA-256 recorded on the object, or undefined when there is no object. */
async function existingSha256(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.Metadata?.[SHA256_METADATA];
  } catch (error) {
    if (isAwsError(error, "NotFound", "NoSuchKey")) return undefined;
    throw error;
  }
}
