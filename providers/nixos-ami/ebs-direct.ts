// EBS direct: the raw image goes straight into a snapshot, 512 KiB at a time, skipping blocks of
// zeros (a fresh snapshot reads as zeros), each block carrying its SHA-256, and the whole checked
// by a LINEAR aggregate on completion. A snapshot that cannot be finished is deleted.
import { createHash, randomUUID } from "node:crypto";
import { open } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { CompleteSnapshotCommand, type EBSClient, PutSnapshotBlockCommand, StartSnapshotCommand } from "@aws-sdk/client-ebs";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { deleteSnapshot } from "./delete.ts";
import { isAwsError, ImagePipelineError } from "./errors.ts";
import type { Reporter } from "./progress.ts";
import type { RetryPolicy } from "./retry.ts";
import { snapshotsFor, waitForSnapshot } from "./snapshots.ts";

export const BLOCK_SIZE = 512 * 1024;
const GiB = 2 ** 30;
const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE);
const READ_SIZE = 16 * BLOCK_SIZE;

export interface EbsDirectRequest {
  readonly filePath: string;
  readonly sizeBytes: number;
  readonly identity: string;
  readonly description: string;
  readonly tags: readonly { Key: string; Value: string }[];
  readonly workers: number;
  readonly blockAttempts: number;
  readonly retryBaseMs: number;
  readonly timeoutMinutes: number;
  readonly pollInitialMs: number;
  readonly pollMaxMs: number;
  readonly policy: RetryPolicy;
}

export interface EbsDirectResult {
  readonly snapshotId: string;
  /** Blocks written (non-zero); the rest of the volume reads as zeros. */
  readonly changedBlocks: number;
  readonly totalBlocks: number;
  /** SHA-256 of the image file, computed while reading it; empty when a completed snapshot of an earlier run was reused (then nothing was read). */
  readonly imageSha256: string;
}

/** SHA-256 over the binary per-block digests in block order, base64: what CompleteSnapshot's LINEAR mode checks. */
export function linearAggregate(digests: ReadonlyMap<number, Buffer>): string {
  const hash = createHash("sha256");
  for (const [, digest] of [...digests].sort(([a], [b]) => a - b)) hash.update(digest);
  return hash.digest("base64");
}

export async function writeSnapshot(clients: { ebs: EBSClient; ec2: EC2Client }, request: EbsDirectRequest, report: Reporter, signal?: AbortSignal): Promise<EbsDirectResult> {
  const totalBlocks = Math.ceil(request.sizeBytes / BLOCK_SIZE);
  const reusable = await reuseOrClear(clients.ec2, request.identity, report);
  if (reusable) return { snapshotId: reusable, changedBlocks: 0, totalBlocks, imageSha256: "" };

  const deadline = Date.now() + request.timeoutMinutes * 60_000;
  const started = await clients.ebs.send(
    new StartSnapshotCommand({
      VolumeSize: Math.max(1, Math.ceil(request.sizeBytes / GiB)),
      // A fresh token per attempt; the SDK reuses it across its own retries of this one request.
      ClientToken: randomUUID(),
      Description: request.description,
      Tags: [...request.tags],
      Timeout: Math.max(10, Math.min(4320, Math.ceil(request.timeoutMinutes))),
    }),
  );
  const snapshotId = started.SnapshotId;
  if (!snapshotId) throw new ImagePipelineError("EBS_WRITE_FAILED", "StartSnapshot returned no SnapshotId");
  report({ step: "ebs-direct", message: `snapshot ${snapshotId}: writing ${totalBlocks} blocks of 512 KiB`, percent: 0 });
  try {
    const written = await writeBlocks(clients.ebs, snapshotId, totalBlocks, request, report, signal);
    await clients.ebs.send(
      new CompleteSnapshotCommand({
        SnapshotId: snapshotId,
        ChangedBlocksCount: written.digests.size,
        Checksum: linearAggregate(written.digests),
        ChecksumAlgorithm: "SHA256",
        ChecksumAggregationMethod: "LINEAR",
      }),
    );
    await waitForSnapshot(clients.ec2, snapshotId, { deadline, pollInitialMs: request.pollInitialMs, pollMaxMs: request.pollMaxMs, policy: request.policy, signal });
    report({ step: "ebs-direct", message: `snapshot ${snapshotId} completed (${written.digests.size} of ${totalBlocks} blocks held data)`, percent: 100 });
    return { snapshotId, changedBlocks: written.digests.size, totalBlocks, imageSha256: written.imageSha256 };
  } catch (error) {
    // An unfinished snapshot can never complete: remove it, and say so if even that fails.
    const cleanup = await deleteSnapshot(clients.ec2, snapshotId).then(
      () => "the snapshot was deleted",
      (cleanupError: unknown) => `deleting it failed too (${(cleanupError as Error).message}): delete ${snapshotId} by hand`,
    );
    const code = error instanceof ImagePipelineError ? error.code : "EBS_WRITE_FAILED";
    throw new ImagePipelineError(code, `writing snapshot ${snapshotId} failed, ${cleanup}: ${(error as Error).message}`, { snapshotId }, { cause: error });
  }
}

/**
 * A completed snapshot of this identity (an earlier run died before RegisterImage) is reused;
 * an unfinished one (the run died while writing) can never complete and is deleted.
 */
async function reuseOrClear(ec2: EC2Client, identity: string, report: Reporter): Promise<string | undefined> {
  const snapshots = await snapshotsFor(ec2, identity);
  const completed = snapshots.find((snapshot) => snapshot.State === "completed" && snapshot.SnapshotId);
  if (completed?.SnapshotId) {
    report({ step: "ebs-direct", message: `reusing snapshot ${completed.SnapshotId} from an earlier run`, percent: 100 });
    return completed.SnapshotId;
  }
  for (const leftover of snapshots) {
    if (!leftover.SnapshotId) continue;
    report({ step: "ebs-direct", message: `deleting unfinished snapshot ${leftover.SnapshotId} of an interrupted run` });
    await deleteSnapshot(ec2, leftover.SnapshotId);
  }
  return undefined;
}

/**
 * One sequential pass over the file (reads of up to 8 MiB, the whole-image SHA-256 computed on the way);
 * non-zero blocks go to at most `workers` concurrent PutSnapshotBlock requests.
 */
async function writeBlocks(
  ebs: EBSClient,
  snapshotId: string,
  totalBlocks: number,
  request: EbsDirectRequest,
  report: Reporter,
  signal?: AbortSignal,
): Promise<{ digests: Map<number, Buffer>; imageSha256: string }> {
  const file = await open(request.filePath, "r");
  const whole = createHash("sha256");
  const digests = new Map<number, Buffer>();
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    // One read buffer for the whole pass, no bigger than the image. A block is sent from a copy
    // (it may still be in flight after the next read) in a buffer that goes back to `spare` when
    // its request is done: at most `workers` of them ever exist. Touching fresh memory costs
    // more CPU than reading or hashing it (page faults), and a fresh buffer per read or per block
    // touched the whole image's worth of it.
    const chunk = Buffer.allocUnsafe(Math.min(READ_SIZE, Math.max(BLOCK_SIZE, Math.ceil(request.sizeBytes / BLOCK_SIZE) * BLOCK_SIZE)));
    const spare: Buffer[] = [];
    for (let offset = 0; offset < request.sizeBytes && failure === undefined; offset += chunk.length) {
      signal?.throwIfAborted();
      const { bytesRead } = await file.read(chunk, 0, chunk.length, offset);
      whole.update(chunk.subarray(0, bytesRead));
      // EBS takes whole blocks: the last one is padded with zeros (not the rest of the buffer).
      chunk.fill(0, bytesRead, Math.ceil(bytesRead / BLOCK_SIZE) * BLOCK_SIZE);
      for (let start = 0; start < bytesRead; start += BLOCK_SIZE) {
        const view = chunk.subarray(start, start + BLOCK_SIZE);
        if (view.equals(ZERO_BLOCK)) continue;
        const index = (offset + start) / BLOCK_SIZE;
        while (inFlight.size >= request.workers) await Promise.race(inFlight);
        if (failure !== undefined) break;
        const block = spare.pop() ?? Buffer.allocUnsafe(BLOCK_SIZE);
        view.copy(block);
        const digest = createHash("sha256").update(block).digest();
        const progress = Math.floor((index / totalBlocks) * 100);
        const task: Promise<void> = putBlockWithRetry(ebs, snapshotId, index, block, digest, progress, request, signal)
          .then(() => void digests.set(index, digest))
          .catch((error: unknown) => void (failure ??= { error }))
          .finally(() => {
            inFlight.delete(task);
            spare.push(block);
          });
        inFlight.add(task);
      }
      report({
        step: "ebs-direct",
        message: snapshotId,
        percent: Math.min(100, ((offset + bytesRead) / request.sizeBytes) * 100),
        bytes: { done: offset + bytesRead, total: request.sizeBytes },
      });
    }
    await Promise.all(inFlight);
  } finally {
    await file.close();
  }
  if (failure !== undefined) throw failure.error;
  return { digests, imageSha256: whole.digest("hex") };
}

/** Writes a block; retries with full-jitter exponential backoff, since a new snapshot refuses writes for a while. */
async function putBlockWithRetry(
  ebs: EBSClient,
  snapshotId: string,
  index: number,
  block: Buffer,
  digest: Buffer,
  progress: number,
  request: EbsDirectRequest,
  signal?: AbortSignal,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ebs.send(
        new PutSnapshotBlockCommand({
          SnapshotId: snapshotId,
          BlockIndex: index,
          BlockData: block,
          DataLength: BLOCK_SIZE,
          Checksum: digest.toString("base64"),
          ChecksumAlgorithm: "SHA256",
          Progress: progress,
        }),
        { abortSignal: signal },
      );
      return;
    } catch (error) {
      // THROTTLED already spent the retry policy's rounds (retry.ts): more attempts would multiply them.
      if (signal?.aborted || error instanceof ImagePipelineError || isAwsError(error, "AccessDeniedException") || attempt >= request.blockAttempts) throw error;
      const ceiling = Math.min(20_000, request.retryBaseMs * 2 ** (attempt - 1));
      await sleep(Math.random() * ceiling, undefined, { signal });
    }
  }
}
