// VM Import: ImportSnapshot from the S3 object, then poll until the snapshot exists. Idempotent by
// construction: the task is tagged with the identity and its ClientToken derives from it, so a run
// that was killed mid-import finds its task again and waits for it instead of importing twice.
import {
  DescribeImportSnapshotTasksCommand,
  type EC2Client,
  ImportSnapshotCommand,
  type ImportSnapshotTask,
} from "@aws-sdk/client-ec2";
import { ImagePipelineError } from "./errors.ts";
import { pollUntil } from "./poll.ts";
import { snapshotState } from "./snapshots.ts";
import type { Reporter } from "./progress.ts";
import { TAG } from "./tags.ts";
import type { DiskFormat } from "./build.ts";

export interface ImportRequest {
  readonly bucket: string;
  readonly key: string;
  readonly format: DiskFormat;
  readonly identity: string;
  readonly digest: string;
  readonly roleName: string;
  readonly timeoutMinutes: number;
  readonly pollInitialMs: number;
  readonly pollMaxMs: number;
}

export interface ImportResult {
  readonly snapshotId: string;
}

/** The ClientToken of the n-th attempt for an identity: the same attempt always sends the same token. */
export function importToken(digest: string, failedAttempts: number): string {
  return `clawdinator-${digest}-${failedAttempts}`;
}

export async function importSnapshot(ec2: EC2Client, request: ImportRequest, report: Reporter, signal?: AbortSignal): Promise<ImportResult> {
  const earlier = await tasksFor(ec2, request.identity);
  const live = await findLiveTask(ec2, earlier);
  let taskId = live?.ImportTaskId;
  if (taskId !== undefined) report({ step: "import", message: `resuming import task ${taskId} started by an earlier run` });
  else {
    // A failed task keeps its token forever (AWS returns the dead task again), so each attempt gets the next one.
    const failedAttempts = earlier.length;
    const started = await ec2.send(
      new ImportSnapshotCommand({
        ClientToken: importToken(request.digest, failedAttempts),
        Description: `clawdinator ${request.digest}`,
        DiskContainer: { Format: request.format.toUpperCase(), UserBucket: { S3Bucket: request.bucket, S3Key: request.key } },
        RoleName: request.roleName,
        TagSpecifications: [{ ResourceType: "import-snapshot-task", Tags: [{ Key: TAG.identity, Value: request.identity }] }],
      }),
    );
    taskId = started.ImportTaskId;
    if (!taskId) throw new ImagePipelineError("IMPORT_FAILED", "ImportSnapshot returned no ImportTaskId", { key: request.key });
    report({ step: "import", message: `import task ${taskId} started`, percent: 0 });
  }
  const snapshotId = await waitForImport(ec2, taskId, request, report, signal);
  return { snapshotId };
}

/** A task still running, or completed with its snapshot still there (a later delete may have removed it). */
async function findLiveTask(ec2: EC2Client, tasks: readonly ImportSnapshotTask[]): Promise<ImportSnapshotTask | undefined> {
  const active = tasks.find((task) => task.SnapshotTaskDetail?.Status === "active");
  if (active) return active;
  for (const task of tasks) {
    const snapshotId = task.SnapshotTaskDetail?.SnapshotId;
    if (task.SnapshotTaskDetail?.Status === "completed" && snapshotId && (await snapshotState(ec2, snapshotId)) === "completed") return task;
  }
  return undefined;
}

/**
 * The import tasks tagged with `identity` (AWS lists those of the last 7 days). Filtered here, not
 * with a `tag:` filter, because EC2 documents no filter names for this call.
 */
async function tasksFor(ec2: EC2Client, identity: string): Promise<ImportSnapshotTask[]> {
  const tasks: ImportSnapshotTask[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeImportSnapshotTasksCommand({ NextToken }));
    tasks.push(...(page.ImportSnapshotTasks ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return tasks.filter((task) => task.Tags?.some((tag) => tag.Key === TAG.identity && tag.Value === identity));
}

/** Polls with a growing interval until the task completes, fails, or the timeout passes. */
async function waitForImport(ec2: EC2Client, taskId: string, request: ImportRequest, report: Reporter, signal?: AbortSignal): Promise<string> {
  let last = "";
  return pollUntil(
    async () => {
      const { ImportSnapshotTasks = [] } = await ec2.send(new DescribeImportSnapshotTasksCommand({ ImportTaskIds: [taskId] }));
      const detail = ImportSnapshotTasks[0]?.SnapshotTaskDetail;
      const status = detail?.Status ?? "";
      if (status === "completed") {
        if (!detail?.SnapshotId) throw new ImagePipelineError("IMPORT_FAILED", `import task ${taskId} completed without a snapshot id`, { importTaskId: taskId });
        report({ step: "import", message: `snapshot ${detail.SnapshotId}`, percent: 100 });
        return detail.SnapshotId;
      }
      // A failed import passes `deleting` to `deleted` (not `error`, which the SDK's waiter expects).
      if (status === "deleting" || status === "deleted" || status === "error") {
        throw new ImagePipelineError(
          "IMPORT_FAILED",
          `VM Import task ${taskId} failed (${status}): ${detail?.StatusMessage ?? "AWS gave no status message"}`,
          { importTaskId: taskId, status, statusMessage: detail?.StatusMessage, snapshotId: detail?.SnapshotId },
        );
      }
      report({ step: "import", message: detail?.StatusMessage ?? status, percent: Number(detail?.Progress ?? 0) });
      last = `${status} ${detail?.StatusMessage ?? ""}`;
      return undefined;
    },
    () =>
      new ImagePipelineError(
        "IMPORT_TIMEOUT",
        `import task ${taskId} did not finish within ${request.timeoutMinutes} minutes (last: ${last}); it keeps running, and the next run resumes it. Raise customTimeouts.create to wait longer.`,
        { importTaskId: taskId },
      ),
    { deadline: Date.now() + request.timeoutMinutes * 60_000, initialMs: request.pollInitialMs, maxMs: request.pollMaxMs, growth: 1.5, signal },
  );
}
