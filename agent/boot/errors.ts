/** Why a boot failed; callers and tests branch on the code, never on the message. */
export type BootErrorCode =
  | "SETTINGS_INVALID"
  | "IMDS_UNAVAILABLE"
  | "USER_DATA_INVALID"
  | "MANIFEST_MISSING"
  | "BUNDLE_INVALID"
  | "OBJECT_MISSING"
  | "OBJECT_MISMATCH"
  | "S3_FAILED"
  | "IDENTITY_UNREADABLE"
  | "IDENTITY_INVALID"
  | "SECRET_UNDECRYPTABLE"
  | "CREDENTIAL_MISSING"
  | "CONFIG_INVALID"
  | "MOUNT_FAILED";

/**
 * A boot that must not go on. The message names the object, parameter or field and says what to do;
 * it never contains a secret. `subject` is that object (an S3 key, a parameter name, a field).
 */
export class BootError extends Error {
  override readonly name = "BootError";
  readonly code: BootErrorCode;
  readonly subject: string;
  constructor(code: BootErrorCode, subject: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.subject = subject;
  }
}

/** `Code: message` of an AWS SDK error (its `name` is the service's error code), for messages. */
export function awsErrorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return `${error.name}${status ? ` (HTTP ${status})` : ""}: ${error.message}`;
}
