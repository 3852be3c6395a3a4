// The three AWS services boot talks to, through the AWS SDK's own clients: the instance metadata
// service (IMDSv2 only: a session token first, never the v1 fallback), S3 for the bundle and SSM
// for the age identity. Endpoints are settings, so tests point the same clients at local servers.
import type { S3ClientConfig } from "@aws-sdk/client-s3";
import { BootError, awsErrorText } from "./errors.ts";
import type { BootSettings } from "./settings.ts";

export interface BootAws {
  /** The raw user data of this instance. */
  userData(): Promise<string>;
  /** The instance's region. */
  region(): Promise<string>;
  /** An object's bytes, or undefined when there is no such key. */
  getObject(bucket: string, key: string, region: string): Promise<Buffer | undefined>;
  /** A SecureString's decrypted value. */
  getSecureParameter(name: string, region: string): Promise<string>;
  /** The instance id and the AMI it booted from (the health report carries both). */
  identity?(): Promise<{ instanceId: string; imageId: string }>;
}

export interface AwsOptions {
  /** Credentials for S3 and SSM; unset: the SDK's default chain (the instance role, through IMDS). */
  readonly credentials?: S3ClientConfig["credentials"];
}

/** Real AWS access. The SDK modules load only here, when boot runs. */
export async function openBootAws(settings: BootSettings, options: AwsOptions = {}): Promise<BootAws> {
  const [{ MetadataService }, s3, ssm] = await Promise.all([
    import("@aws-sdk/ec2-metadata-service"),
    import("@aws-sdk/client-s3"),
    import("@aws-sdk/client-ssm"),
  ]);
  const imdsEndpoint = settings.endpoints.imds ?? "http://169.254.169.254";
  const metadata = new MetadataService({
    endpoint: imdsEndpoint,
    ec2MetadataV1Disabled: true,
    httpOptions: { timeout: 5_000 },
    retries: 3,
  });
  const imds = async (path: string): Promise<string> => {
    try {
      // The client appends the path to the endpoint's own "/": without this, it would ask for "//latest/…".
      return await metadata.request(path.replace(/^\//, ""), {});
    } catch (error) {
      throw new BootError(
        "IMDS_UNAVAILABLE",
        path,
        `the instance metadata service at ${imdsEndpoint} did not answer ${path} (${(error as Error).message}); ` +
          "boot needs IMDSv2 with a session token (the instance's metadata options: http-tokens required, hop limit >= 1)",
        { cause: error },
      );
    }
  };
  const s3Clients = new Map<string, InstanceType<typeof s3.S3Client>>();
  const s3Client = (region: string): InstanceType<typeof s3.S3Client> => {
    let client = s3Clients.get(region);
    if (!client) {
      client = new s3.S3Client({
        region,
        ...(settings.endpoints.s3 ? { endpoint: settings.endpoints.s3, forcePathStyle: true } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
      s3Clients.set(region, client);
    }
    return client;
  };
  return {
    userData: () => imds("/latest/user-data"),
    region: async () => (await imds("/latest/meta-data/placement/region")).trim(),
    identity: async () => ({ instanceId: (await imds("/latest/meta-data/instance-id")).trim(), imageId: (await imds("/latest/meta-data/ami-id")).trim() }),
    async getObject(bucket, key, region) {
      try {
        const response = await s3Client(region).send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!response.Body) return Buffer.alloc(0);
        return Buffer.from(await response.Body.transformToByteArray());
      } catch (error) {
        if (error instanceof s3.NoSuchKey || (error instanceof Error && error.name === "NoSuchKey")) return undefined;
        throw new BootError(
          "S3_FAILED",
          `s3://${bucket}/${key}`,
          `cannot read s3://${bucket}/${key} (${awsErrorText(error)}); the instance role must allow s3:GetObject on its own bootstrap prefix`,
          { cause: error },
        );
      }
    },
    async getSecureParameter(name, region) {
      const client = new ssm.SSMClient({
        region,
        ...(settings.endpoints.ssm ? { endpoint: settings.endpoints.ssm } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
      try {
        const response = await client.send(new ssm.GetParameterCommand({ Name: name, WithDecryption: true }));
        const value = response.Parameter?.Value;
        if (!value) throw new BootError("IDENTITY_UNREADABLE", name, `SSM parameter ${name} has no value; set the stack's ageIdentity and pulumi up`);
        return value;
      } catch (error) {
        if (error instanceof BootError) throw error;
        throw new BootError(
          "IDENTITY_UNREADABLE",
          name,
          `cannot read the age identity from SSM parameter ${name} (${awsErrorText(error)}); ` +
            "the instance role must allow ssm:GetParameter on it and kms:Decrypt through SSM (docs/SECRETS.md, 'What the instance role may do'), and the parameter must exist (pulumi up on the instance stack)",
          { cause: error },
        );
      } finally {
        client.destroy();
      }
    },
  };
}
