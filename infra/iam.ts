// Every IAM and resource policy of the program, as pure functions of plain ARNs and names. They are
// tested directly, and the same documents are what the invariants and the policy pack inspect.
import type { PolicyDocument } from "./invariants.ts";

export type { PolicyDocument, PolicyStatement } from "./invariants.ts";

/** The trust policy of an EC2 instance role. */
export function ec2TrustPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "Ec2AssumesRole", Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
  };
}

/** VM Import assumes `vmimport` only with the external id AWS documents for it. */
export function vmImportTrustPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "VmImportAssumesRole",
        Effect: "Allow",
        Principal: { Service: "vmie.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "sts:ExternalId": "vmimport" } },
      },
    ],
  };
}

/** `images` and `images/` both scope to the folder: without the slash, `images*` would also match `images-old/`. */
function asKeyPrefix(prefix: string): string {
  return prefix.endsWith("/") ? prefix : `${prefix}/`;
}

export interface VmImportPolicyInput {
  readonly imagesBucketArn: string;
  /** Key prefix the raw images live under, e.g. `images/`. */
  readonly imagesPrefix: string;
  readonly region: string;
}

/**
 * What VM Import needs to turn a raw image in S3 into a snapshot: read the images prefix, and the
 * snapshot/image actions AWS documents for the service role, scoped to this region's snapshots and
 * images. `ec2:Describe*` has no resource-level permissions in IAM, so it is the one `*` resource.
 */
export function vmImportPolicy(input: VmImportPolicyInput): PolicyDocument {
  const prefix = asKeyPrefix(input.imagesPrefix);
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "LocateImagesBucket", Effect: "Allow", Action: ["s3:GetBucketLocation", "s3:ListBucket"], Resource: input.imagesBucketArn },
      { Sid: "ReadRawImages", Effect: "Allow", Action: "s3:GetObject", Resource: `${input.imagesBucketArn}/${prefix}*` },
      {
        Sid: "MakeSnapshotsAndImages",
        Effect: "Allow",
        Action: ["ec2:ModifySnapshotAttribute", "ec2:CopySnapshot", "ec2:RegisterImage"],
        Resource: [`arn:aws:ec2:${input.region}::snapshot/*`, `arn:aws:ec2:${input.region}::image/*`],
      },
      { Sid: "DescribeHasNoResourceScope", Effect: "Allow", Action: "ec2:Describe*", Resource: "*" },
    ],
  };
}

export interface InstancePolicyInput {
  readonly bootstrapBucketArn: string;
  /** This instance's prefix, `bootstrap/CLAWDINATOR-<n>/`. */
  readonly bootstrapPrefix: string;
  readonly ageIdentityParameterArn: string;
  readonly secretsKeyArn: string;
  readonly region: string;
  readonly fileSystemArn: string;
  readonly accessPointArn: string;
  /** Its health report, `status/CLAWDINATOR-<n>.json`: the one object it may write. */
  readonly statusKey: string;
  /** The release the fleet pins for in-place updates, `release/current.json`: read only. */
  readonly releaseKey: string;
}

/**
 * An instance reads its own bootstrap prefix, its own age identity and the fleet's release pin,
 * writes its own health report, and mounts the hive mind through its access point. Nothing else:
 * no other prefix, no other parameter, no other object to write, no SSM sessions.
 */
export function instancePolicy(input: InstancePolicyInput): PolicyDocument {
  const prefix = asKeyPrefix(input.bootstrapPrefix);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ListOwnBootstrapPrefix",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: input.bootstrapBucketArn,
        Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}*`] } },
      },
      { Sid: "ReadOwnBootstrapBundle", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: `${input.bootstrapBucketArn}/${prefix}*` },
      { Sid: "ReadOwnAgeIdentity", Effect: "Allow", Action: "ssm:GetParameter", Resource: input.ageIdentityParameterArn },
      {
        Sid: "DecryptOwnAgeIdentityViaSsm",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: input.secretsKeyArn,
        Condition: {
          StringEquals: {
            "kms:ViaService": `ssm.${input.region}.amazonaws.com`,
            "kms:EncryptionContext:PARAMETER_ARN": input.ageIdentityParameterArn,
          },
        },
      },
      {
        Sid: "MountHiveMindThroughAccessPoint",
        Effect: "Allow",
        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        Resource: input.fileSystemArn,
        Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": input.accessPointArn } },
      },
      // One exact key each: no wildcard, so an instance can neither forge another's health nor write its own bundle.
      { Sid: "WriteOwnStatus", Effect: "Allow", Action: "s3:PutObject", Resource: `${input.bootstrapBucketArn}/${input.statusKey}` },
      { Sid: "ReadFleetRelease", Effect: "Allow", Action: "s3:GetObject", Resource: `${input.bootstrapBucketArn}/${input.releaseKey}` },
    ],
  };
}

/** Any request to the bucket that is not over TLS is denied, whoever makes it. */
export function tlsOnlyBucketPolicy(bucketArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

/**
 * The hive mind's file system policy. Its presence alone makes EFS require IAM authorization (no
 * anonymous mounts); it denies anything not over TLS and any root access, so clients mount with
 * `-o tls,iam,accesspoint=...` and act as the access point's POSIX user.
 */
export function efsFileSystemPolicy(fileSystemArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "*",
        Resource: fileSystemArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "DenyRootAccess",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "elasticfilesystem:ClientRootAccess",
        Resource: fileSystemArn,
      },
    ],
  };
}

export interface CiRolesInput {
  /** `owner/repo` on GitHub. */
  readonly repository: string;
  /** ARN of the account's `token.actions.githubusercontent.com` OIDC provider. */
  readonly oidcProviderArn: string;
}

const OIDC = "token.actions.githubusercontent.com";

/** Trust for GitHub Actions OIDC tokens of exactly one subject (`repo:<owner>/<repo>:…`), audience STS. */
function githubOidcTrust(input: CiRolesInput, sid: string, subject: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: sid,
        Effect: "Allow",
        Principal: { Federated: input.oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { [`${OIDC}:aud`]: "sts.amazonaws.com", [`${OIDC}:sub`]: `repo:${input.repository}:${subject}` },
        },
      },
    ],
  };
}

/**
 * Trust of the read-only preview role: GitHub's OIDC tokens for pull requests of this repository
 * only (`repo:<owner>/<repo>:pull_request`), nothing else, no branch, no environment.
 */
export function previewRoleTrustPolicy(input: CiRolesInput): PolicyDocument {
  return githubOidcTrust(input, "PullRequestsOfThisRepository", "pull_request");
}

/** Trust of the deploy role: only jobs in this repository's `production` environment (`up` on main). */
export function deployRoleTrustPolicy(input: CiRolesInput): PolicyDocument {
  return githubOidcTrust(input, "ProductionEnvironmentOfThisRepository", "environment:production");
}

/**
 * What the preview role may do beyond AWS's `ReadOnlyAccess` (attach that managed policy for the
 * reads `pulumi preview` and `refresh --preview-only` make): nothing; and whatever else is ever
 * attached, it can never decrypt a secret, read a SecureString, read a secret's value, read the
 * bootstrap bundles, or change anything.
 */
export function previewRoleGuardPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "NeverDecryptOrReadSecrets",
        Effect: "Deny",
        Action: ["kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "ssm:GetParameter*", "secretsmanager:GetSecretValue", "s3:GetObject*"],
        Resource: "*",
      },
      {
        Sid: "NeverWrite",
        Effect: "Deny",
        NotAction: ["sts:GetCallerIdentity", "ec2:Describe*", "s3:List*", "s3:GetBucket*", "iam:Get*", "iam:List*", "kms:Describe*", "kms:List*", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "ssm:Describe*", "ssm:ListTagsForResource", "elasticfilesystem:Describe*", "elasticfilesystem:ListTagsForResource"],
        Resource: "*",
      },
    ],
  };
}
