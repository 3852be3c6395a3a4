/**
 * The fake's account state and the clocks that move it. Nothing runs in the background: every
 * request first calls `advance(now)`, which moves import tasks, EBS-direct snapshots and images to
 * wherever their timelines say they are. Tests read the same objects through `Ec2Fake.state`.
 */
import { randomBytes } from "node:crypto";

export const ACCOUNT_ID = "123456789012";
export const EBS_BLOCK_SIZE = 524_288;
export type Tags = Map<string, string>;

/**
 * SnapshotTaskDetail.Status as AWS reports it: a task is `active` while it waits ("pending" is only
 * its StatusMessage), then `completed`; a failed or cancelled one passes `deleting` to `deleted`.
 */
export type ImportTaskStatus = "active" | "completed" | "deleting" | "deleted";

export interface ImportTask {
  readonly importTaskId: string;
  readonly clientToken: string | undefined;
  /** What ImportSnapshot was asked, to detect a reused ClientToken with other parameters. */
  readonly requestFingerprint: string;
  readonly description: string | undefined;
  readonly format: string;
  readonly s3Bucket: string;
  readonly s3Key: string;
  readonly createdAt: number;
  readonly durationMs: number;
  /** Bytes of the S3 object, when the fake could see it (DiskImageSize). */
  readonly diskImageSize: number | undefined;
  /** The object's non-zero blocks, read at ImportSnapshot when the format is RAW: the snapshot's content. */
  readonly rawBlocks: Map<number, Buffer> | undefined;
  /** Set when the task is doomed (fault, missing S3 object, cancel): it ends `deleted` with this. */
  failure: { message: string; at: number } | undefined;
  status: ImportTaskStatus;
  statusMessage: string | undefined;
  progress: number | undefined;
  snapshotId: string | undefined;
  readonly tags: Tags;
}

export type SnapshotState = "pending" | "completed" | "error";

export interface EbsDirectUpload {
  readonly clientToken: string | undefined;
  readonly requestFingerprint: string;
  readonly timeoutMinutes: number;
  /** PutSnapshotBlock is refused until then (AWS: "snapshot does not exist" right after StartSnapshot). */
  readonly writableAt: number;
  readonly blocks: Map<number, Buffer>;
  /** Binary SHA-256 per written block, for the LINEAR aggregate CompleteSnapshot checks. */
  readonly digests: Map<number, Buffer>;
  completionRequestedAt: number | undefined;
}

export interface Snapshot {
  readonly snapshotId: string;
  readonly origin: "import-snapshot" | "ebs-direct";
  readonly volumeSizeGiB: number;
  readonly description: string | undefined;
  readonly startTime: Date;
  state: SnapshotState;
  stateMessage: string | undefined;
  readonly tags: Tags;
  readonly ebs: EbsDirectUpload | undefined;
  /** The non-zero 512 KiB blocks of a snapshot VM Import made from a RAW object (for ListSnapshotBlocks). */
  readonly importedBlocks: Map<number, Buffer> | undefined;
}

export interface BlockDeviceMapping {
  readonly deviceName: string;
  readonly ebs:
    | {
        readonly snapshotId: string;
        readonly volumeSizeGiB: number;
        readonly volumeType: string;
        readonly deleteOnTermination: boolean;
        readonly encrypted: boolean;
        readonly iops: number | undefined;
        readonly throughput: number | undefined;
      }
    | undefined;
}

export type ImageState = "pending" | "available" | "deregistered";

export interface Image {
  readonly imageId: string;
  readonly name: string;
  readonly description: string | undefined;
  readonly architecture: string;
  readonly rootDeviceName: string;
  readonly blockDeviceMappings: readonly BlockDeviceMapping[];
  readonly virtualizationType: string;
  readonly enaSupport: boolean | undefined;
  readonly sriovNetSupport: string | undefined;
  readonly bootMode: string | undefined;
  readonly imdsSupport: string | undefined;
  readonly tpmSupport: string | undefined;
  readonly creationDate: Date;
  readonly availableAt: number;
  state: ImageState;
  readonly tags: Tags;
}

/** EC2 instance states (the name; the fake does not model the numeric code's high byte). */
export type InstanceState = "pending" | "running" | "shutting-down" | "terminated" | "stopping" | "stopped";

export interface Instance {
  readonly instanceId: string;
  readonly reservationId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly launchTime: Date;
  state: InstanceState;
  readonly tags: Tags;
}

export interface LaunchTemplateVersion {
  readonly versionNumber: number;
  readonly description: string | undefined;
  readonly createTime: Date;
  /** `ImageId` as given: an AMI id, or `resolve:ssm:<parameter>`. */
  readonly imageId: string | undefined;
  readonly instanceType: string | undefined;
}

export interface LaunchTemplate {
  readonly launchTemplateId: string;
  readonly name: string;
  readonly createTime: Date;
  defaultVersion: number;
  readonly versions: LaunchTemplateVersion[];
  readonly tags: Tags;
}

export interface Ec2State {
  readonly importTasks: Map<string, ImportTask>;
  readonly snapshots: Map<string, Snapshot>;
  readonly images: Map<string, Image>;
  readonly instances: Map<string, Instance>;
  readonly launchTemplates: Map<string, LaunchTemplate>;
  /** SSM parameters `resolve:ssm:` names in a launch template resolve to (tests set them). */
  readonly ssmParameters: Map<string, string>;
}

export function newState(): Ec2State {
  return { importTasks: new Map(), snapshots: new Map(), images: new Map(), instances: new Map(), launchTemplates: new Map(), ssmParameters: new Map() };
}

const ZERO_BLOCK = Buffer.alloc(EBS_BLOCK_SIZE);

/**
 * The non-zero 512 KiB blocks of a disk image read as a stream, the last one padded with zeros, and
 * its size. Blocks are filled one at a time and only non-zero ones keep their buffer: the whole
 * object in memory, and a fresh buffer per block, cost more CPU than an import's everything else.
 */
export async function nonZeroBlocks(chunks: AsyncIterable<Uint8Array>): Promise<{ size: number; blocks: Map<number, Buffer> }> {
  const blocks = new Map<number, Buffer>();
  let block = Buffer.allocUnsafe(EBS_BLOCK_SIZE);
  let filled = 0;
  let index = 0;
  let size = 0;
  const finishBlock = (): void => {
    block.fill(0, filled);
    if (!block.equals(ZERO_BLOCK)) {
      blocks.set(index, block);
      block = Buffer.allocUnsafe(EBS_BLOCK_SIZE);
    }
    index++;
    filled = 0;
  };
  for await (const chunk of chunks) {
    for (let at = 0; at < chunk.length; ) {
      const take = Math.min(chunk.length - at, EBS_BLOCK_SIZE - filled);
      block.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      size += take;
      if (filled === EBS_BLOCK_SIZE) finishBlock();
    }
  }
  if (filled > 0) finishBlock();
  return { size, blocks };
}

/** IDs in AWS's current long format: prefix and 17 hex digits. */
export function newId(prefix: "import-snap" | "snap" | "ami" | "i" | "r" | "lt"): string {
  return `${prefix}-${randomBytes(9).toString("hex").slice(0, 17)}`;
}

/** How long an EBS-direct snapshot stays `pending` after CompleteSnapshot (an AMI carries its own `availableAt`). */
export interface Settling {
  readonly snapshotCompletionMs: number;
}

export function advance(state: Ec2State, now: number, settling: Settling): void {
  for (const task of state.importTasks.values()) advanceImportTask(state, task, now);
  for (const snapshot of state.snapshots.values()) advanceEbsSnapshot(snapshot, now, settling);
  for (const image of state.images.values()) {
    if (image.state === "pending" && now >= image.availableAt) image.state = "available";
  }
}

/**
 * Timeline of one task, as fractions of its duration: `active`/"pending" for the first 10%, then
 * `active` with Progress and the StatusMessages AWS shows, then `completed` with a new snapshot.
 * A doomed task goes `deleting` at its failure time and `deleted` a little later.
 */
function advanceImportTask(state: Ec2State, task: ImportTask, now: number): void {
  if (task.status === "completed" || task.status === "deleted") return;
  const fraction = Math.min(1, (now - task.createdAt) / Math.max(1, task.durationMs));
  if (task.failure !== undefined && now >= task.failure.at) {
    const deletedAt = task.failure.at + task.durationMs * 0.1;
    task.status = now >= deletedAt ? "deleted" : "deleting";
    task.statusMessage = task.failure.message;
    task.progress = undefined;
    return;
  }
  if (fraction >= 1) {
    const snapshotId = newId("snap");
    state.snapshots.set(snapshotId, {
      snapshotId,
      origin: "import-snapshot",
      volumeSizeGiB: Math.max(1, Math.ceil((task.diskImageSize ?? 1) / 2 ** 30)),
      // What VM Import writes on the snapshots it creates.
      description: `Created by AWS-VMImport service for ${task.importTaskId}`,
      startTime: new Date(now),
      state: "completed",
      stateMessage: undefined,
      tags: new Map(),
      ebs: undefined,
      importedBlocks: task.rawBlocks,
    });
    task.status = "completed";
    task.statusMessage = undefined;
    task.progress = undefined;
    task.snapshotId = snapshotId;
    return;
  }
  task.status = "active";
  if (fraction < 0.1) {
    task.statusMessage = "pending";
    task.progress = 3;
  } else {
    task.progress = Math.max(3, Math.min(99, Math.floor(fraction * 100)));
    task.statusMessage = fraction < 0.5 ? "downloading/converting" : "validating";
  }
}

function advanceEbsSnapshot(snapshot: Snapshot, now: number, settling: Settling): void {
  const upload = snapshot.ebs;
  if (upload === undefined || snapshot.state !== "pending") return;
  if (upload.completionRequestedAt !== undefined) {
    if (now >= upload.completionRequestedAt + settling.snapshotCompletionMs) snapshot.state = "completed";
    return;
  }
  if (now >= snapshot.startTime.getTime() + upload.timeoutMinutes * 60_000) {
    snapshot.state = "error";
    snapshot.stateMessage = `The snapshot was not completed within its ${upload.timeoutMinutes}-minute timeout`;
  }
}
