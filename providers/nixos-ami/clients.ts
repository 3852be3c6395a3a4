// The three AWS clients the pipeline needs, built once per operation from region + endpoints, each
// with the pipeline's retry policy (retry.ts) installed: the SDK-level strategy and, outside it,
// the extra rounds for throttling.
import { EBSClient } from "@aws-sdk/client-ebs";
import { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { DEFAULT_TUNING } from "./inputs.ts";
import { type RetryPolicy, sdkRetryStrategy, throttleMiddleware } from "./retry.ts";
import type { Endpoints } from "./types.ts";

export interface AwsClients {
  readonly s3: S3Client;
  readonly ec2: EC2Client;
  readonly ebs: EBSClient;
}

/** Keys a caller already holds (the CLI's own environment); without them the SDK's default chain runs. */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * Without explicit endpoints the SDK resolves them itself, which includes the standard
 * `AWS_ENDPOINT_URL_S3` / `_EC2` / `_EBS` environment variables. With an explicit S3 endpoint
 * (an emulator, a non-AWS store) path-style addressing is used, since such stores rarely serve
 * virtual-hosted buckets.
 */
export function createClients(region: string, endpoints: Endpoints = {}, policy: RetryPolicy = DEFAULT_TUNING, credentials?: StaticCredentials): AwsClients {
  const common = { region, retryStrategy: sdkRetryStrategy(policy), ...(credentials ? { credentials } : {}) };
  const clients = {
    s3: new S3Client({ ...common, ...(endpoints.s3 ? { endpoint: endpoints.s3, forcePathStyle: true } : {}) }),
    ec2: new EC2Client({ ...common, ...(endpoints.ec2 ? { endpoint: endpoints.ec2 } : {}) }),
    ebs: new EBSClient({ ...common, ...(endpoints.ebs ? { endpoint: endpoints.ebs } : {}) }),
  };
  // `initialize` runs once per `send`, before the SDK's retry loop (in `finalizeRequest`), so this
  // sees only what is left after the SDK's attempts.
  const options = { step: "initialize", name: "clawdinatorThrottleRounds" } as const;
  clients.s3.middlewareStack.add(throttleMiddleware(policy), options);
  clients.ec2.middlewareStack.add(throttleMiddleware(policy), options);
  clients.ebs.middlewareStack.add(throttleMiddleware(policy), options);
  return clients;
}

export function destroyClients(clients: AwsClients): void {
  clients.s3.destroy();
  clients.ec2.destroy();
  clients.ebs.destroy();
}
