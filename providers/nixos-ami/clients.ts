// The three AWS clients the pipeline needs, built once per operation from region + endpoints.
import { EBSClient } from "@aws-sdk/client-ebs";
import { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import type { Endpoints } from "./types.ts";

export interface AwsClients {
  readonly s3: S3Client;
  readonly ec2: EC2Client;
  readonly ebs: EBSClient;
}

/**
 * Without explicit endpoints the SDK resolves them itself, which includes the standard
 * `AWS_ENDPOINT_URL_S3` / `_EC2` / `_EBS` environment variables. With an explicit S3 endpoint
 * (an emulator, a non-AWS store) path-style addressing is used, since such stores rarely serve
 * virtual-hosted buckets.
 */
export function createClients(region: string, endpoints: Endpoints = {}): AwsClients {
  const common = { region, maxAttempts: 5 };
  return {
    s3: new S3Client({ ...common, ...(endpoints.s3 ? { endpoint: endpoints.s3, forcePathStyle: true } : {}) }),
    ec2: new EC2Client({ ...common, ...(endpoints.ec2 ? { endpoint: endpoints.ec2 } : {}) }),
    ebs: new EBSClient({ ...common, ...(endpoints.ebs ? { endpoint: endpoints.ebs } : {}) }),
  };
}

export function destroyClients(clients: AwsClients): void {
  clients.s3.destroy();
  clients.ec2.destroy();
  clients.ebs.destroy();
}
