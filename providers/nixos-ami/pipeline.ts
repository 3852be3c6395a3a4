// The whole pipeline, one step per module: identity → adopt → build → (upload → vm-import |
// ebs-direct) → register → retention. Used by the provider and by `clawdinator image`.
import path from "node:path";
import { type RegisteredImage, findImageByIdentity } from "./adopt.ts";
import { type BuiltImage, buildImage, locateImage } from "./build.ts";
import type { AwsClients } from "./clients.ts";
import { deleteSnapshot, removeImageParts } from "./delete.ts";
import { writeSnapshot } from "./ebs-direct.ts";
import { ImagePipelineError, isAwsError } from "./errors.ts";
import { type ImageIdentity, type ImageSource, identityDigest, imageSource, resolveIdentity, sha256File } from "./identity.ts";
import type { Reporter } from "./progress.ts";
import { imageName, registerImage, waitForImage } from "./register.ts";
import { inPhase } from "./retry.ts";
import { pruneImages, sweepOrphanSnapshots } from "./retention.ts";
import { type ImageFacts, parseS3Source, TAG } from "./tags.ts";
import type { NixosAmiInputs, NixosAmiOutputs } from "./types.ts";
import { importSnapshot } from "./vm-import.ts";
import { objectKey, uploadImage } from "./upload.ts";

export interface PipelineContext {
  readonly clients: AwsClients;
  readonly report: Reporter;
  readonly signal?: AbortSignal;
}

export interface EnsuredImage extends NixosAmiOutputs {
  /** True when an AMI with this identity already existed and nothing was built or imported. */
  readonly adopted: boolean;
}

export async function ensureImage(inputs: NixosAmiInputs, context: PipelineContext): Promise<EnsuredImage> {
  const source = imageSource(inputs);
  context.report({ step: "identity", message: source.kind === "flake" ? `nix eval ${source.flake}#${source.nixosConfiguration}` : `sha256 ${source.imagePath}` });
  const identity = await resolveIdentity(source, context.signal);
  context.report({ step: "identity", message: identity.identity });
  const ensured = await ensureImageFor(inputs, source, identity, context);
  // A no-op rerun only checks retention (one DescribeImages); a run that made something also
  // sweeps orphaned snapshots, which is when an interrupted earlier run may have left one.
  await applyRetention(inputs, ensured.amiId, context, { sweepOrphans: !ensured.adopted });
  return ensured;
}

/** The outputs of an AMI made earlier, read back from its tags. */
export function outputsFromImage(image: RegisteredImage, identity: ImageIdentity): NixosAmiOutputs {
  const source = parseS3Source(image.tags.get(TAG.sourceKey) ?? "");
  return {
    amiId: image.amiId,
    snapshotId: image.snapshotId,
    s3Key: source?.key ?? "",
    imageSha256: image.tags.get(TAG.imageSha256) ?? identity.imageSha256,
    identity: identity.identity,
    closure: image.tags.get(TAG.closure) ?? identity.closure,
    sizeBytes: Number(image.tags.get(TAG.sizeBytes) ?? 0),
  };
}

async function ensureImageFor(inputs: NixosAmiInputs, source: ImageSource, identity: ImageIdentity, context: PipelineContext): Promise<EnsuredImage> {
  const { clients, report, signal } = context;
  const policy = inputs.tuning;
  const existing = await inPhase("adopt", report, () => findImageByIdentity(clients.ec2, identity.identity));
  if (existing) {
    report({ step: "adopt", message: `${existing.amiId} (${existing.name}) already holds this identity` });
    if (existing.state === "pending")
      await inPhase("adopt", report, () =>
        waitForImage(clients.ec2, existing.amiId, { deadline: Date.now() + inputs.importTimeoutMinutes * 60_000, pollMaxMs: inputs.tuning.pollMaxMs, policy, signal }),
      );
    return { ...outputsFromImage(existing, identity), adopted: true };
  }
  const built = await obtainImage(source, report, signal);
  const digest = identityDigest(identity.identity);
  const name = imageName(inputs.namePrefix, digest);
  const deadline = Date.now() + inputs.importTimeoutMinutes * 60_000;

  let snapshotId: string;
  let s3Key = "";
  let sourceKey: string;
  // ebs-direct hashes the image in the same pass that reads it; vm-import needs the hash first, to
  // tell whether S3 already holds the image.
  let imageSha256 = identity.imageSha256;
  if (inputs.importMethod === "vm-import") {
    report({ step: "hash", message: built.filePath });
    const upload = await uploadToS3(inputs, built, identity, context);
    ({ key: s3Key, imageSha256 } = upload);
    sourceKey = `s3://${inputs.bucket}/${s3Key}`;
    snapshotId = await inPhase("import", report, () => importUploaded(inputs, { format: built.format, identity: identity.identity, digest, s3Key, deadline }, context));
  } else {
    if (built.format !== "raw")
      throw new ImagePipelineError("INVALID_INPUT", `ebs-direct needs a raw image but ${built.filePath} is ${built.format}: set amazonImage.format = "raw" in the NixOS configuration, or importMethod: "vm-import"`, { filePath: built.filePath });
    sourceKey = `file:${path.basename(built.filePath)}`;
    const written = await inPhase("ebs-direct", report, () => writeSnapshot(
      clients,
      {
        filePath: built.filePath,
        sizeBytes: built.sizeBytes,
        identity: identity.identity,
        description: `clawdinator ${name}`,
        // The identity tag finds an unfinished snapshot again; the full set is added at registration.
        tags: [
          { Key: "Name", Value: name },
          { Key: TAG.identity, Value: identity.identity },
        ],
        workers: inputs.tuning.ebsWorkers,
        blockAttempts: inputs.tuning.blockAttempts,
        retryBaseMs: inputs.tuning.retryBaseMs,
        timeoutMinutes: inputs.importTimeoutMinutes,
        pollInitialMs: inputs.tuning.pollInitialMs,
        pollMaxMs: inputs.tuning.pollMaxMs,
        policy,
      },
      report,
      signal,
    ));
    snapshotId = written.snapshotId;
    imageSha256 ||= written.imageSha256 || (await sha256File(built.filePath, signal));
  }

  const facts: ImageFacts = {
    identity: identity.identity,
    closure: identity.closure,
    imageSha256,
    sourceKey,
    sizeBytes: built.sizeBytes,
    namePrefix: inputs.namePrefix,
    importMethod: inputs.importMethod,
  };
  report({ step: "register", message: `${name} from ${snapshotId}` });
  return inPhase("register", report, async () => {
    const registered = await registerImage(clients.ec2, { name, snapshotId, architecture: inputs.architecture, bootMode: inputs.bootMode, facts, tags: inputs.tags, policy, region: inputs.region });
    const { amiId } = registered;
    if (registered.how !== "registered") report({ step: "register", message: `${name} already exists as ${amiId} (${registered.how === "duplicate" ? "made by another run" : "untagged; its snapshot proves it is this image, tagged it"}): adopting it` });
    if (registered.snapshotId !== snapshotId) {
      // The AMI another run registered uses its own snapshot: ours is unused. Record the AMI's
      // (a later delete removes the right one) and remove ours, or it would be orphaned.
      const removed = await deleteSnapshot(clients.ec2, snapshotId).catch((error: unknown) => {
        if (isAwsError(error, "InvalidSnapshot.InUse")) return false;
        throw error;
      });
      report({ step: "register", message: `${snapshotId} is not used by ${amiId} (its snapshot is ${registered.snapshotId}): ${removed ? "deleted" : "left, still in use"}` });
    }
    await waitForImage(clients.ec2, amiId, { deadline: Math.max(deadline, Date.now() + 600_000), pollMaxMs: inputs.tuning.pollMaxMs, policy, signal });
    report({ step: "register", message: `${amiId} available` });
    return {
      amiId,
      snapshotId: registered.snapshotId,
      s3Key,
      imageSha256,
      identity: identity.identity,
      closure: identity.closure,
      sizeBytes: built.sizeBytes,
      adopted: registered.how !== "registered",
    };
  });
}

async function obtainImage(source: ImageSource, report: Reporter, signal?: AbortSignal): Promise<BuiltImage> {
  if (source.kind === "prebuilt") return locateImage(source.imagePath);
  return buildImage(source, report, signal);
}

export interface UploadedImage {
  readonly key: string;
  readonly imageSha256: string;
  /** False when S3 already held the image. */
  readonly uploaded: boolean;
}

/**
 * The image in S3 under its identity's key, hashed first unless its SHA-256 is known (the hash
 * tells whether S3 already holds it). vm-import's first half, and `clawdinator image upload`.
 */
export async function uploadToS3(
  settings: Pick<NixosAmiInputs, "bucket" | "keyPrefix" | "tuning">,
  built: BuiltImage,
  identity: ImageIdentity,
  context: PipelineContext,
): Promise<UploadedImage> {
  const { clients, report, signal } = context;
  const imageSha256 = identity.imageSha256 || (await sha256File(built.filePath, signal));
  const key = objectKey(settings.keyPrefix, identityDigest(identity.identity), built.format);
  const { uploaded } = await inPhase("upload", report, () => uploadImage(
    clients.s3,
    {
      bucket: settings.bucket,
      key,
      filePath: built.filePath,
      sizeBytes: built.sizeBytes,
      sha256: imageSha256,
      identity: identity.identity,
      partSizeMiB: settings.tuning.uploadPartMiB,
      queueSize: settings.tuning.uploadQueueSize,
    },
    report,
    signal,
  )).catch((error: unknown) => {
    if (!isAwsError(error, "NoSuchBucket")) throw error;
    throw new ImagePipelineError("BUCKET_NOT_FOUND", `the S3 bucket ${settings.bucket} does not exist (NoSuchBucket)`, { bucket: settings.bucket }, {
      cause: error,
      phase: "upload",
      resource: `s3://${settings.bucket}/${key}`,
      fix: `create the bucket in this account and region, or set bucket (CLAWDINATOR_IMAGE_BUCKET / --bucket for the CLI) to one that exists; importMethod "ebs-direct" needs no bucket`,
    });
  });
  return { key, imageSha256, uploaded };
}

/**
 * ImportSnapshot of the uploaded image. If the import fails, what this pipeline made for it (the
 * S3 object, a snapshot AWS may have left) is removed before the error propagates: nothing is orphaned.
 */
async function importUploaded(
  inputs: NixosAmiInputs,
  image: { format: BuiltImage["format"]; identity: string; digest: string; s3Key: string; deadline: number },
  context: PipelineContext,
): Promise<string> {
  const { clients, report, signal } = context;
  try {
    const imported = await importSnapshot(
      clients.ec2,
      {
        bucket: inputs.bucket,
        key: image.s3Key,
        format: image.format,
        identity: image.identity,
        digest: image.digest,
        roleName: inputs.vmImportRoleName,
        timeoutMinutes: Math.max(0, (image.deadline - Date.now()) / 60_000),
        pollInitialMs: inputs.tuning.pollInitialMs,
        pollMaxMs: inputs.tuning.pollMaxMs,
      },
      report,
      signal,
    );
    return imported.snapshotId;
  } catch (error) {
    if (error instanceof ImagePipelineError && error.code === "IMPORT_FAILED") {
      const leftover = error.context.snapshotId;
      await removeImageParts(clients, { bucket: inputs.bucket, s3Key: image.s3Key, ...(typeof leftover === "string" ? { snapshotId: leftover } : {}) });
      report({ step: "import", message: `failed; removed s3://${inputs.bucket}/${image.s3Key}${typeof leftover === "string" ? ` and ${leftover}` : ""}` });
    }
    throw error;
  }
}

/** Retention never fails the deployment that just succeeded; a failure is reported, not hidden. */
export async function applyRetention(inputs: NixosAmiInputs, currentAmiId: string, context: PipelineContext, options: { sweepOrphans: boolean }): Promise<void> {
  try {
    await inPhase("retention", context.report, async () => {
      const pruned = await pruneImages(context.clients, { namePrefix: inputs.namePrefix, keep: inputs.keep, protect: [currentAmiId] }, context.report);
      if (options.sweepOrphans || pruned.removed.length > 0)
        await sweepOrphanSnapshots(context.clients.ec2, { graceMinutes: inputs.tuning.orphanGraceMinutes }, context.report);
    });
  } catch (error) {
    context.report({ step: "retention", message: `WARNING: could not prune old images: ${(error as Error).message}` });
  }
}
