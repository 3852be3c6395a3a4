// A private S3 bucket with every guard on: public access blocked, default encryption, versioning,
// a TLS-only policy, object ownership enforced (no ACLs), and lifecycle rules bounding its growth.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tlsOnlyBucketPolicy } from "./iam.ts";

export interface SecureBucketArgs {
  /** Prefix of the generated bucket name (Pulumi appends a random suffix, so names never collide). */
  namePrefix: string;
  /**
   * Lifecycle rules besides the two every bucket gets (abort incomplete multipart uploads after a
   * day; expire noncurrent versions after `noncurrentDays`).
   */
  extraRules?: aws.types.input.s3.BucketLifecycleConfigurationRule[];
  /** How long an overwritten or deleted object's old version is kept. @default 30 */
  noncurrentDays?: number;
  tags: Record<string, string>;
}

/**
 * Both buckets use SSE-S3 (AES256), not KMS: the images bucket is read by VM Import and EBS tooling
 * (a KMS key would need grants for the vmimport role and adds a KMS call per request), and the
 * bootstrap bucket holds only age ciphertext and non-secret metadata; the key that opens the
 * ciphertext is the KMS-protected secret (see docs/SECRETS.md).
 */
export class SecureBucket extends pulumi.ComponentResource {
  public readonly bucket: aws.s3.Bucket;
  public readonly name: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;

  constructor(name: string, args: SecureBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clawdinators:storage:SecureBucket", name, {}, opts);
    const parent = { parent: this };
    const bucket = new aws.s3.Bucket(`${name}Bucket`, { bucketPrefix: `${args.namePrefix}-`, forceDestroy: false, tags: args.tags }, parent);
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}PublicAccess`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    new aws.s3.BucketOwnershipControls(`${name}Ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, parent);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}Encryption`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      parent,
    );
    const versioning = new aws.s3.BucketVersioning(`${name}Versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, parent);
    new aws.s3.BucketPolicy(
      `${name}TlsOnly`,
      { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) },
      // S3 refuses a bucket policy while the public access block is still being applied.
      { ...parent, dependsOn: [publicAccess] },
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}Lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          { id: "abort-incomplete-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
          {
            id: "expire-old-versions",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentDays ?? 30 },
            expiration: { expiredObjectDeleteMarker: true },
          },
          ...(args.extraRules ?? []),
        ],
      },
      // Lifecycle rules on noncurrent versions need versioning to exist first.
      { ...parent, dependsOn: [versioning] },
    );
    this.bucket = bucket;
    this.name = bucket.bucket;
    this.arn = bucket.arn;
    this.registerOutputs({ name: this.name, arn: this.arn });
  }
}
