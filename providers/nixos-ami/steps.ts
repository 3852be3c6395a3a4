// The pipeline steps without Pulumi: what `clawdinator image` drives directly (loading
// @pulumi/pulumi would only slow the command down).
export { adoptImage, findImageByIdentity, describeImage, forgetImage, type RegisteredImage } from "./adopt.ts";
export { buildImage, locateImage, type BuiltImage, type DiskFormat } from "./build.ts";
export { createClients, destroyClients, type AwsClients } from "./clients.ts";
export { removeImageParts } from "./delete.ts";
export { BLOCK_SIZE, linearAggregate, writeSnapshot } from "./ebs-direct.ts";
export { ImagePipelineError, type ImagePipelineErrorCode } from "./errors.ts";
export { IMAGE_ATTRIBUTE, identityDigest, imageSource, resolveIdentity, sha256File, type ImageIdentity, type ImageSource } from "./identity.ts";
export { DEFAULT_TUNING, DEFAULTS, normalizeInputs, type InputFailure } from "./inputs.ts";
export { ensureImage, uploadToS3, type EnsuredImage, type PipelineContext, type UploadedImage } from "./pipeline.ts";
export { lineReporter, silentReporter, type PipelineStep, type ProgressEvent, type Reporter } from "./progress.ts";
export { imageName } from "./register.ts";
export { imagesInUse, imagesToPrune, listImages, orphanSnapshots, pruneImages, sweepOrphanSnapshots, type PruneResult } from "./retention.ts";
export { inPhase, type RetryPolicy } from "./retry.ts";
export { TAG } from "./tags.ts";
export { uploadImage } from "./upload.ts";
