// The few S3 operations the fleet's health reports and release pin need, behind a small interface
// so the decisions are tested without a network. The real one is the AWS SDK v3, loaded only when
// a bucket is configured; its endpoint is configurable (tests use s3rver on 127.0.0.1).
import type { S3Client } from "@aws-sdk/client-s3";

export interface ObjectStore {
  /** The bucket, for messages. */
  readonly bucket: string;
  put(key: string, body: string): Promise<void>;
  /** The object's text, or undefined when there is no such object. */
  get(key: string): Promise<string | undefined>;
  /** Every key under `prefix`. */
  list(prefix: string): Promise<string[]>;
  close(): void;
}

export interface S3StoreOptions {
  readonly bucket: string;
  readonly region: string;
  /** Another endpoint (an emulator, another partition); path-style addressing then. Unset or empty: AWS's. */
  readonly endpoint?: string | undefined;
  /** Unset: the SDK's default chain (the instance role on EC2). */
  readonly credentials?: AwsKeys | undefined;
}

/** Static credentials, the shape every SDK v3 client's `credentials` accepts. */
export interface AwsKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * The keys in `env` (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), as the SDK's
 * environment provider reads them; undefined when either key is unset or empty, so the client keeps
 * the SDK's default chain (a profile, SSO, the instance role through IMDS). For code handed an
 * environment of its own (a CLI command's, the agent's): the SDK only ever reads `process.env`,
 * the same thing in a real process but not for a command run inside another (the tests).
 */
export function credentialsFrom(env: NodeJS.ProcessEnv): AwsKeys | undefined {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** The store of the status bucket a config names (`status.bucket`, `status.endpoint`), signing with `env`'s keys when it has them. */
export function openStatusStore(status: { readonly bucket: string; readonly endpoint?: string | undefined }, region: string, env: NodeJS.ProcessEnv): Promise<ObjectStore> {
  return openS3Store({ bucket: status.bucket, region, endpoint: status.endpoint, credentials: credentialsFrom(env) });
}

export async function openS3Store(options: S3StoreOptions): Promise<ObjectStore> {
  const { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey } = await import("@aws-sdk/client-s3");
  const client: S3Client = new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const { bucket } = options;
  return {
    bucket,
    async put(key, body) {
      // A string body is sent whole (not aws-chunked), with the SDK's default CRC32 checksum.
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/json", ServerSideEncryption: "AES256" }));
    },
    async get(key) {
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await response.Body?.transformToString("utf8")) ?? "";
      } catch (error) {
        if (error instanceof NoSuchKey || (error instanceof Error && error.name === "NoSuchKey")) return undefined;
        throw error;
      }
    },
    async list(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    close() {
      client.destroy();
    },
  };
}

/** An in-memory store (a local run without a bucket, and unit tests of the decisions). */
export class MemoryObjectStore implements ObjectStore {
  readonly bucket = "memory";
  readonly objects = new Map<string, string>();
  async put(key: string, body: string): Promise<void> {
    this.objects.set(key, body);
  }
  async get(key: string): Promise<string | undefined> {
    return this.objects.get(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  close(): void {}
}
