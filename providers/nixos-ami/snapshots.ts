// Snapshot lookups shared by vm-import and ebs-direct.
import { DescribeSnapshotsCommand, type EC2Client, type Snapshot } from "@aws-sdk/client-ec2";
import { isAwsError, ImagePipelineError } from "./errors.ts";
import { pollUntil } from "./poll.ts";
import { type RetryPolicy, untilVisible } from "./retry.ts";
import { TAG } from "./tags.ts";

/** The snapshot's state, or undefined when it does not exist. */
export async function snapshotState(ec2: EC2Client, snapshotId: string): Promise<string | undefined> {
  try {
    const { Snapshots = [] } = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
    return Snapshots[0]?.State;
  } catch (error) {
    if (isAwsError(error, "InvalidSnapshot.NotFound")) return undefined;
    throw error;
  }
}

/** Our snapshots tagged with `identity` (made by an earlier run of ebs-direct, or registered). */
export async function snapshotsFor(ec2: EC2Client, identity: string): Promise<Snapshot[]> {
  const { Snapshots = [] } = await ec2.send(
    new DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters: [{ Name: `tag:${TAG.identity}`, Values: [identity] }] }),
  );
  return Snapshots;
}

/**
 * Polls until the snapshot is `completed`; `error` or the deadline fail. The snapshot was just
 * made, so NotFound is eventual consistency for up to `policy.consistencyWaitMs`, not a failure.
 */
export async function waitForSnapshot(
  ec2: EC2Client,
  snapshotId: string,
  options: { deadline: number; pollInitialMs: number; pollMaxMs: number; policy: RetryPolicy; signal?: AbortSignal },
): Promise<void> {
  await pollUntil(
    async () => {
      const { Snapshots = [] } = await untilVisible({ resource: snapshotId, policy: options.policy, signal: options.signal }, () =>
        ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })),
      );
      const snapshot = Snapshots[0];
      if (snapshot?.State === "completed") return true;
      if (snapshot?.State === "error" || snapshot === undefined)
        throw new ImagePipelineError("EBS_WRITE_FAILED", `snapshot ${snapshotId} ended in ${snapshot?.State ?? "nothing"}: ${snapshot?.StateMessage ?? "no message"}`, { snapshotId });
      return undefined;
    },
    () => new ImagePipelineError("IMPORT_TIMEOUT", `snapshot ${snapshotId} did not complete in time`, { snapshotId }),
    { deadline: options.deadline, initialMs: Math.min(options.pollInitialMs, 1_000), maxMs: options.pollMaxMs, growth: 1.5, signal: options.signal },
  );
}
