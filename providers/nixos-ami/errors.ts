// One error class for the pipeline; callers branch on `code`, never on the message. Every error
// says where it happened (`phase`), on what (`resource`) and what to do next (`fix`), because the
// person reading it is usually looking at a failed `pulumi up`, not at this code.
import type { PipelineStep } from "./progress.ts";

export type ImagePipelineErrorCode =
  | "INVALID_INPUT"
  | "NIX_MISSING"
  | "NIX_FAILED"
  | "IMAGE_NOT_FOUND"
  | "IMPORT_FAILED"
  | "IMPORT_TIMEOUT"
  | "EBS_WRITE_FAILED"
  | "REGISTER_FAILED"
  /** AWS kept throttling after the SDK's attempts and the pipeline's own rounds of backoff. */
  | "THROTTLED"
  /** Something this run just made stayed invisible (NotFound) for the whole consistency window. */
  | "NOT_VISIBLE"
  /** The S3 bucket for raw images does not exist. */
  | "BUCKET_NOT_FOUND"
  /** An AMI already has the name this image needs, and nothing proves it is this image. */
  | "NAME_TAKEN";

export interface ErrorDetails {
  /** The pipeline step that failed. */
  readonly phase?: PipelineStep;
  /** The AWS resource (ami-…, snap-…, s3://…, import-snap-…) it was working on. */
  readonly resource?: string;
  /** What the reader should do about it, as a sentence. */
  readonly fix?: string;
}

export class ImagePipelineError extends Error {
  readonly code: ImagePipelineErrorCode;
  /** What the failing step was working on (task id, snapshot id, key...), for logs and callers. */
  readonly context: Readonly<Record<string, string | number | undefined>>;
  readonly phase: PipelineStep | undefined;
  readonly resource: string | undefined;
  readonly fix: string | undefined;

  constructor(
    code: ImagePipelineErrorCode,
    message: string,
    context: Record<string, string | number | undefined> = {},
    options?: { cause?: unknown } & ErrorDetails,
  ) {
    // The phase, resource and fix are part of the message too: Pulumi shows only the message.
    const where = [options?.phase && `phase ${options.phase}`, options?.resource].filter(Boolean).join(", ");
    super(`${where ? `[${where}] ` : ""}${message}${options?.fix ? `. What to do: ${options.fix}` : ""}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = `ImagePipelineError[${code}]`;
    this.code = code;
    this.context = context;
    this.phase = options?.phase;
    this.resource = options?.resource;
    this.fix = options?.fix;
  }
}

/** True for an AWS SDK error whose code (`name`) is one of `codes`. */
export function isAwsError(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes(error.name);
}

/** The AWS error code (the SDK puts it in `name`), or the message of anything else. */
export function awsCode(error: unknown): string {
  return error instanceof Error ? error.name : String(error);
}
