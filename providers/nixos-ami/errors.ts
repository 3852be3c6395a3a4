// One error class for the pipeline; callers branch on `code`, never on the message.

export type ImagePipelineErrorCode =
  | "INVALID_INPUT"
  | "NIX_MISSING"
  | "NIX_FAILED"
  | "IMAGE_NOT_FOUND"
  | "IMPORT_FAILED"
  | "IMPORT_TIMEOUT"
  | "EBS_WRITE_FAILED"
  | "REGISTER_FAILED";

export class ImagePipelineError extends Error {
  readonly code: ImagePipelineErrorCode;
  /** What the failing step was working on (task id, snapshot id, key...), for logs and callers. */
  readonly context: Readonly<Record<string, string | number | undefined>>;

  constructor(
    code: ImagePipelineErrorCode,
    message: string,
    context: Record<string, string | number | undefined> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = `ImagePipelineError[${code}]`;
    this.code = code;
    this.context = context;
  }
}

/** True for an AWS SDK error whose code (`name`) is one of `codes`. */
export function isAwsError(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes(error.name);
}
