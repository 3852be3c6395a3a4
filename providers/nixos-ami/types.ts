// Plain (resolved) shapes the provider works with. The Pulumi-facing `NixosAmiArgs` (resource.ts)
// wraps each of these in `pulumi.Input`; the engine resolves them before the provider sees them.

/**
 * How the raw image becomes an EBS snapshot.
 * - `ebs-direct`: StartSnapshot / PutSnapshotBlock / CompleteSnapshot straight from the local file;
 *   seconds, not minutes, and only non-zero blocks travel. Needs `ebs:*Snapshot*` permissions.
 * - `vm-import`: multipart upload to S3, then ImportSnapshot (the upstream's way); 10–20 minutes,
 *   needs the `vmimport` service role, but leaves the raw image archived in S3.
 */
export type ImportMethod = "vm-import" | "ebs-direct";
export type Architecture = "x86_64" | "arm64";
export type BootMode = "uefi" | "legacy-bios" | "uefi-preferred";

/** Base URLs for S3, EC2 and EBS: local emulators in tests, other partitions in real use. */
export interface Endpoints {
  readonly s3?: string;
  readonly ec2?: string;
  readonly ebs?: string;
}

/** Knobs for how hard and how often the pipeline works; the defaults suit AWS. */
export interface Tuning {
  /** First wait between DescribeImportSnapshotTasks / DescribeSnapshots polls; grows ×1.5. */
  readonly pollInitialMs: number;
  readonly pollMaxMs: number;
  /** Concurrent PutSnapshotBlock requests. */
  readonly ebsWorkers: number;
  /** Attempts per block (StartSnapshot's snapshot is not writable at once), with jittered backoff from `retryBaseMs`. */
  readonly blockAttempts: number;
  /** Base of every jittered exponential backoff (SDK attempts, blocks, throttling, NotFound waits), ms. */
  readonly retryBaseMs: number;
  /** Attempts the SDK makes per AWS request (throttling, 5xx, dropped connections). */
  readonly sdkAttempts: number;
  /** Extra rounds of `sdkAttempts` when AWS still throttles, each after a longer jittered wait; then THROTTLED. */
  readonly throttleRetries: number;
  /** How long something this run just made may answer NotFound (AWS is eventually consistent); then NOT_VISIBLE. */
  readonly consistencyWaitMs: number;
  /** Snapshots tagged by this pipeline that no AMI uses are deleted once older than this. */
  readonly orphanGraceMinutes: number;
  readonly uploadPartMiB: number;
  /** Parts uploaded at once. */
  readonly uploadQueueSize: number;
}

/** The resource's inputs after the engine resolved them and `normalizeInputs` applied defaults. */
export interface NixosAmiInputs {
  readonly flake?: string;
  readonly nixosConfiguration?: string;
  readonly imagePath?: string;
  readonly bucket: string;
  readonly keyPrefix: string;
  readonly region: string;
  readonly architecture: Architecture;
  readonly bootMode: BootMode;
  readonly namePrefix: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly importMethod: ImportMethod;
  readonly keep: number;
  readonly vmImportRoleName: string;
  readonly nixBinary: string;
  readonly endpoints: Endpoints;
  /** How long the snapshot step may take before the resource gives up (from `customTimeouts.create`). */
  readonly importTimeoutMinutes: number;
  readonly tuning: Tuning;
}

/** What the resource reports once the image is registered. */
export interface NixosAmiOutputs {
  readonly amiId: string;
  readonly snapshotId: string;
  /** The S3 key of the uploaded raw image; empty for `ebs-direct`, which does not go through S3. */
  readonly s3Key: string;
  readonly imageSha256: string;
  readonly identity: string;
  /** The NixOS toplevel store path; empty for a prebuilt image. */
  readonly closure: string;
  readonly sizeBytes: number;
}

/** The state Pulumi keeps: inputs (needed again by delete/read) plus outputs. */
export type NixosAmiState = NixosAmiInputs & NixosAmiOutputs;
