/**
 * The two error wire formats. EC2 (Query): an XML `<Response><Errors><Error><Code>` document whose
 * Code the SDK turns into the exception's `name`. EBS direct (REST-JSON): the exception name in the
 * `x-amzn-ErrorType` header and `{"Message", "Reason"}` in the body.
 */
export class Ec2ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = `Ec2ApiError[${code}]`;
    this.code = code;
    this.status = status;
  }
}

export const invalidParameterValue = (message: string): Ec2ApiError =>
  new Ec2ApiError("InvalidParameterValue", message);

/** Names and statuses from the EBS service model (botocore ebs/2019-11-02). */
export type EbsErrorType =
  | "ValidationException"
  | "ResourceNotFoundException"
  | "RequestThrottledException"
  | "ConflictException"
  | "AccessDeniedException"
  | "InternalServerException";

const EBS_STATUS: Record<EbsErrorType, number> = {
  ValidationException: 400,
  ResourceNotFoundException: 404,
  RequestThrottledException: 400,
  ConflictException: 409,
  AccessDeniedException: 403,
  InternalServerException: 500,
};

export class EbsApiError extends Error {
  readonly type: EbsErrorType;
  readonly status: number;
  readonly reason: string | undefined;
  constructor(type: EbsErrorType, message: string, reason?: string) {
    super(message);
    this.name = `EbsApiError[${type}]`;
    this.type = type;
    this.status = EBS_STATUS[type];
    this.reason = reason;
  }
}
