// The program's security invariants as pure functions over declared resources (type + inputs).
// The mock tests walk every resource of a stack through them, and the policy pack
// (infra/policy/) runs the very same functions under `pulumi preview --policy-pack`.
// Nothing here imports Pulumi, or anything outside infra/policy/: the inputs are plain values, and
// a value unknown at preview is the marker UNKNOWN (see `declared` in policies.ts).

/**
 * A value Pulumi cannot know during `pulumi preview` (computed from another resource's output). A
 * rule whose safety depends on such a value fails it, unless the value is a whole document the
 * engine sends at `pulumi up` (policy documents, user data), which is checked then.
 */
export const UNKNOWN: unique symbol = Symbol("unknown at preview");

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

/** A declared resource as both the mocks and the policy pack see it. */
export interface DeclaredResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  /** URNs of the resources each input property was computed from. */
  readonly refs: Readonly<Record<string, readonly string[]>>;
}

export interface Violation {
  readonly rule: string;
  /** `type::name`, for people. */
  readonly resource: string;
  /** The resource's URN, for the policy pack's report. */
  readonly urn: string;
  readonly message: string;
}

export const TYPES = {
  instance: "aws:ec2/instance:Instance",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  spotInstanceRequest: "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
  launchConfiguration: "aws:ec2/launchConfiguration:LaunchConfiguration",
  volume: "aws:ebs/volume:Volume",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  legacyRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
  bucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  fileSystem: "aws:efs/fileSystem:FileSystem",
  fileSystemPolicy: "aws:efs/fileSystemPolicy:FileSystemPolicy",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  managedPolicy: "aws:iam/policy:Policy",
  userPolicy: "aws:iam/userPolicy:UserPolicy",
  groupPolicy: "aws:iam/groupPolicy:GroupPolicy",
  rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  userPolicyAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  groupPolicyAttachment: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
  policyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
  kmsKey: "aws:kms/key:Key",
  ssmParameter: "aws:ssm/parameter:Parameter",
} as const;

/** Tag on a security group that says what it guards; the invariants key off it. */
export const ROLE_TAG = "clawdinators:role";
/** Tag on an instance role naming its CLAWDINATOR; scopes its policy check. */
export const INSTANCE_TAG = "clawdinators:instance";
/** Tag on an instance role (and its parameter) naming its fleet; with INSTANCE_TAG it names the one parameter the role may read. */
export const FLEET_TAG = "clawdinators:fleet";

/**
 * A fleet's name (`clawdinators:fleetName` on the fleet stack): 1-32 lowercase letters, digits and
 * dashes, from a letter to a letter or digit. It becomes the KMS alias `alias/<fleet>-secrets` and
 * the SSM prefix `/<fleet>/`, so it may not start with `aws` (KMS reserves `alias/aws`) or `ssm`
 * (SSM reserves both), and may hold no `/` (one fleet's prefix would nest in another's) and no `*`
 * or `?` (wildcards in the IAM resource that scopes an instance to its parameter).
 */
export const FLEET_NAME = /^(?!aws|ssm)[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** `/<fleet>/CLAWDINATOR-<n>/age-identity`: the SSM parameter holding the instance's age identity, the only one its role may read. */
export function ageIdentityParameterName(fleet: string, instance: string): string {
  return `/${fleet}/${instance}/age-identity`;
}

const SSH_PORT = 22;
const NFS_PORT = 2049;
const HTTPS_PORT = 443;

// ---------------------------------------------------------------------------------------------
// Per-resource rules: each looks at one resource's inputs.

/** No rule anywhere lets port 22 in. */
export function noSshIngress(r: DeclaredResource): Violation[] {
  return ingressRulesOf(r)
    .filter((rule) => coversPort(rule, SSH_PORT))
    .map(() => violation("no-ssh-ingress", r, "an ingress rule opens port 22; instances are reached through the agent, never SSH"));
}

/** Whatever launches an EC2 machine: an instance, a spot request, a launch template or configuration. */
const MACHINE_TYPES: ReadonlySet<string> = new Set([TYPES.instance, TYPES.spotInstanceRequest, TYPES.launchTemplate, TYPES.launchConfiguration]);

/** Everything that launches a machine requires IMDSv2 tokens with a hop limit of 1 (no container reach-through). Unknown at preview fails. */
export function imdsV2Required(r: DeclaredResource): Violation[] {
  if (!MACHINE_TYPES.has(r.type)) return [];
  const options = record(r.inputs.metadataOptions);
  const problems: Violation[] = [];
  if (options?.httpTokens !== "required") problems.push(violation("imdsv2-required", r, 'metadataOptions.httpTokens must be "required"'));
  if (options?.httpPutResponseHopLimit !== 1) problems.push(violation("imdsv2-required", r, "metadataOptions.httpPutResponseHopLimit must be 1"));
  return problems;
}

/** Every EBS volume (root, attached, standalone, in a template) is encrypted. Unknown at preview fails. */
export function volumesEncrypted(r: DeclaredResource): Violation[] {
  if (r.type === TYPES.volume) return r.inputs.encrypted === true ? [] : [violation("volumes-encrypted", r, "the volume must set encrypted: true")];
  if (r.type === TYPES.launchTemplate) {
    // A launch template spells booleans as strings ("true").
    return list(r.inputs.blockDeviceMappings)
      .map((m) => record(record(m)?.ebs))
      .filter((ebs) => ebs !== undefined && ebs.encrypted !== true && ebs.encrypted !== "true")
      .map(() => violation("volumes-encrypted", r, "every blockDeviceMappings ebs entry must set encrypted: true"));
  }
  if (r.type !== TYPES.instance && r.type !== TYPES.spotInstanceRequest && r.type !== TYPES.launchConfiguration) return [];
  const problems: Violation[] = [];
  const root = record(r.inputs.rootBlockDevice);
  if (root?.encrypted !== true) problems.push(violation("volumes-encrypted", r, "rootBlockDevice.encrypted must be true"));
  for (const device of list(r.inputs.ebsBlockDevices)) {
    if (record(device)?.encrypted !== true) problems.push(violation("volumes-encrypted", r, "every ebsBlockDevices entry must set encrypted: true"));
  }
  return problems;
}

/** The hive mind (and any EFS) is encrypted at rest. */
export function fileSystemEncrypted(r: DeclaredResource): Violation[] {
  return r.type === TYPES.fileSystem && r.inputs.encrypted !== true ? [violation("efs-encrypted", r, "the file system must set encrypted: true")] : [];
}

/** SSM parameters holding anything are SecureStrings. */
export function parametersSecure(r: DeclaredResource): Violation[] {
  return r.type === TYPES.ssmParameter && r.inputs.type !== "SecureString"
    ? [violation("parameters-secure", r, 'the parameter must be type "SecureString" (KMS-encrypted)')]
    : [];
}

/** Properties that hold policy documents, by resource type. */
const POLICY_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  [TYPES.role]: ["assumeRolePolicy"],
  [TYPES.rolePolicy]: ["policy"],
  [TYPES.managedPolicy]: ["policy"],
  [TYPES.userPolicy]: ["policy"],
  [TYPES.groupPolicy]: ["policy"],
  [TYPES.bucketPolicy]: ["policy"],
  [TYPES.fileSystemPolicy]: ["policy"],
  [TYPES.kmsKey]: ["policy"],
};

/**
 * Every policy document parses, and none allows a wildcard action on a wildcard resource, or uses
 * NotAction/NotResource in an Allow (both grant everything not listed). A `*` resource is accepted
 * only for actions IAM cannot scope (`Describe*`/`List*` style reads).
 */
export function policyDocumentsBounded(r: DeclaredResource): Violation[] {
  const documents: Array<[string, unknown]> = (POLICY_PROPERTIES[r.type] ?? []).map((p) => [p, r.inputs[p]]);
  if (r.type === TYPES.role) {
    list(r.inputs.inlinePolicies).forEach((p, i) => documents.push([`inlinePolicies[${i}].policy`, record(p)?.policy]));
  }
  return documents.flatMap(([property, value]) => {
    // A document built from other resources' outputs is unknown at preview as a whole: the engine
    // sends it at `pulumi up`, where this rule runs again before anything is created.
    if (value === undefined || value === UNKNOWN) return [];
    const parsed = parsePolicyDocument(value);
    if (typeof parsed === "string") return [violation("policy-parses", r, `${property}: ${parsed}`)];
    const trust = property === "assumeRolePolicy";
    return parsed.Statement.flatMap((s, i) => statementProblems(s, trust).map((m) => violation("policy-bounded", r, `${property} statement ${s.Sid ?? i}: ${m}`)));
  });
}

function statementProblems(s: PolicyStatement, trust: boolean): string[] {
  if (s.Effect !== "Allow") return [];
  const problems: string[] = [];
  if (s.NotAction !== undefined) problems.push("Allow with NotAction grants every other action");
  if (s.NotResource !== undefined) problems.push("Allow with NotResource grants every other resource");
  const actions = strings(s.Action);
  if (trust) {
    // A trust policy names who may assume the role; anyone (`*`) may not.
    const principal = s.Principal;
    const anyone = principal === "*" || strings(record(principal)?.AWS).includes("*") || strings(record(principal)?.Federated).includes("*");
    if (anyone) problems.push("a trust policy lets any principal (*) assume the role");
    if (actions.some(isWildcardAction)) problems.push(`wildcard action ${actions.join(",")} in a trust policy`);
    return problems;
  }
  const resources = strings(s.Resource);
  const wildcardResource = resources.includes("*");
  if (actions.some(isWildcardAction) && wildcardResource) problems.push(`wildcard action ${actions.join(",")} on resource *`);
  else if (wildcardResource) {
    const scopable = actions.filter((a) => !UNSCOPABLE_ACTION.test(a));
    if (scopable.length > 0) problems.push(`resource * for actions IAM can scope: ${scopable.join(", ")}`);
  }
  const writes = actions.filter((a) => !READ_ACTION.test(a));
  const wildcardArns = resources.filter(isWildcardArn);
  if (writes.length > 0 && wildcardArns.length > 0) problems.push(`wildcard resource ${wildcardArns.join(", ")} for write actions ${writes.join(", ")}`);
  return problems;
}

/** Actions that only read (a wildcard ARN for them is a broad read, not a broad write). */
const READ_ACTION = /^[a-z0-9-]+:(Get|List|Describe|Head)\w*\*?$/;

/**
 * An ARN that reaches every account, region, service or resource of a type: `arn:aws:s3:::*`,
 * `arn:aws:kms:eu-central-1:*:key/*`, `arn:aws:ssm:*:…:parameter/*`. EC2's `snapshot/*` and
 * `image/*` in one region are the exception: their ids do not exist before the call that makes them.
 */
function isWildcardArn(resource: string): boolean {
  const parts = resource.split(":");
  if (parts[0] !== "arn" || parts.length < 6) return false;
  const [, partition = "", service = "", region = "", account = ""] = parts;
  const rest = parts.slice(5).join(":");
  if ([partition, service, region, account].some((p) => p.includes("*"))) return true;
  if (rest === "*") return true;
  if (service === "s3") return (rest.split("/")[0] ?? "").includes("*");
  return /^[^/:]+[/:]\*$/.test(rest) && service !== "ec2";
}

/** Reads IAM cannot scope to a resource, so `*` is the only valid resource for them. */
const UNSCOPABLE_ACTION = /^[a-z0-9-]+:(Describe|List|Get[A-Z]\w*Location)\w*\*?$/;

function isWildcardAction(action: string): boolean {
  return action === "*" || /^[a-z0-9-]+:\*$/.test(action);
}

/** Parses a policy document from JSON text or an object; a string result says what is wrong. */
export function parsePolicyDocument(value: unknown): PolicyDocument | string {
  let document: unknown = value;
  if (typeof value === "string") {
    try {
      document = JSON.parse(value);
    } catch {
      return "is not valid JSON";
    }
  }
  const statements = record(document)?.Statement;
  const statementList = Array.isArray(statements) ? statements : statements !== undefined ? [statements] : undefined;
  if (!statementList) return "has no Statement";
  for (const s of statementList) {
    const effect = record(s)?.Effect;
    if (effect !== "Allow" && effect !== "Deny") return 'has a statement whose Effect is not "Allow" or "Deny"';
  }
  return { Version: "2012-10-17", Statement: statementList as PolicyStatement[] };
}

/**
 * No literal secret material in user data: age identities, private keys, tokens. A launch
 * template's `userData` is base64, as is anyone's `userDataBase64`. User data unknown at preview
 * is checked at `pulumi up`.
 */
export function noSecretsInUserData(r: DeclaredResource): Violation[] {
  if (!MACHINE_TYPES.has(r.type)) return [];
  const texts: string[] = [];
  const { userData, userDataBase64 } = r.inputs;
  if (typeof userData === "string") texts.push(r.type === TYPES.launchTemplate ? Buffer.from(userData, "base64").toString("utf8") : userData);
  if (typeof userDataBase64 === "string") texts.push(Buffer.from(userDataBase64, "base64").toString("utf8"));
  return texts.flatMap((decoded) =>
    SECRET_PATTERNS.filter((p) => p.test(decoded)).map((p) => violation("no-secrets-in-user-data", r, `user data matches ${p.source}`)),
  );
}

/** Inputs that hold a secret by design: an SSM SecureString's value (the age identity). */
const SECRET_BY_DESIGN: Readonly<Record<string, readonly string[]>> = { [TYPES.ssmParameter]: ["value"] };

/** No token or key in any string input of any resource (user data has its own rule). */
export function noSecretsInInputs(r: DeclaredResource): Violation[] {
  const skip = new Set(["userData", "userDataBase64", ...(SECRET_BY_DESIGN[r.type] ?? [])]);
  const found: Violation[] = [];
  const walk = (value: unknown, at: string): void => {
    if (typeof value === "string") {
      for (const p of SECRET_PATTERNS) if (p.test(value)) found.push(violation("no-secrets-in-inputs", r, `${at} matches ${p.source}; pass secrets as Pulumi secrets into a SecureString, never as a literal`));
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`));
    else if (record(value)) for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, at ? `${at}.${k}` : k);
  };
  for (const [key, value] of Object.entries(r.inputs)) if (!skip.has(key)) walk(value, key);
  return found;
}

/** AWS-managed policies that grant a whole service or everything. */
const BROAD_MANAGED_POLICY = /:policy\/(?:job-function\/)?(?:AdministratorAccess|PowerUserAccess|[\w-]*FullAccess)$/;

/**
 * No role, user or group gets AdministratorAccess, PowerUserAccess or any `*FullAccess` managed
 * policy. A policy ARN unknown at preview is one this stack creates, whose document policy-bounded
 * checks.
 */
export function noBroadManagedPolicies(r: DeclaredResource): Violation[] {
  const arns =
    r.type === TYPES.role
      ? list(r.inputs.managedPolicyArns)
      : [TYPES.rolePolicyAttachment, TYPES.userPolicyAttachment, TYPES.groupPolicyAttachment, TYPES.policyAttachment].includes(r.type as never)
        ? [r.inputs.policyArn]
        : [];
  return arns
    .filter((arn): arn is string => typeof arn === "string" && BROAD_MANAGED_POLICY.test(arn))
    .map((arn) => violation("no-broad-managed-policies", r, `${arn} grants far more than any CLAWDINATOR needs; write a scoped policy`));
}

/** Shapes of secret material that must never appear in plain text. */
const SECRET_PATTERNS: readonly RegExp[] = [
  /AGE-SECRET-KEY-1/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\bsk-ant-[\w-]{10,}/,
  /\bsk-[A-Za-z0-9]{20,}/,
  /\bgh[pousr]_[A-Za-z0-9]{30,}/,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/,
  /\bAKIA[0-9A-Z]{16}\b/,
  // A Discord bot token: base64 user id, timestamp, HMAC.
  /[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}/,
];

/** A rule with the name and description the policy pack publishes it under. */
export interface Invariant<Check> {
  readonly name: string;
  readonly description: string;
  readonly check: Check;
}
export type ResourceCheck = (r: DeclaredResource) => Violation[];
export type StackCheck = (resources: readonly DeclaredResource[]) => Violation[];

export const RESOURCE_RULES: ReadonlyArray<Invariant<ResourceCheck>> = [
  { name: "no-ssh-ingress", description: "No security group rule admits port 22 (or all ports).", check: noSshIngress },
  { name: "imdsv2-required", description: "Instances require IMDSv2 tokens with a hop limit of 1.", check: imdsV2Required },
  { name: "volumes-encrypted", description: "Every EBS volume, root and attached, is encrypted.", check: volumesEncrypted },
  { name: "efs-encrypted", description: "EFS file systems are encrypted at rest.", check: fileSystemEncrypted },
  { name: "parameters-secure", description: "SSM parameters are KMS-encrypted SecureStrings.", check: parametersSecure },
  {
    name: "policy-bounded",
    description: "Policy documents parse; no wildcard action on a wildcard resource, no NotAction/NotResource allows.",
    check: policyDocumentsBounded,
  },
  { name: "no-secrets-in-user-data", description: "User data carries no keys or tokens.", check: noSecretsInUserData },
  { name: "no-secrets-in-inputs", description: "No string input of any resource carries a key or token.", check: noSecretsInInputs },
  { name: "no-broad-managed-policies", description: "No AdministratorAccess, PowerUserAccess or *FullAccess managed policy is attached.", check: noBroadManagedPolicies },
];

// ---------------------------------------------------------------------------------------------
// Stack rules: relations between resources (a bucket and its companions, a group and its rules).

/**
 * Each bucket has public access blocked on all four switches, server-side encryption, versioning,
 * a policy that denies non-TLS requests, and a lifecycle that bounds its growth.
 */
export function bucketsHardened(resources: readonly DeclaredResource[]): Violation[] {
  const buckets = resources.filter((r) => r.type === TYPES.bucket || r.type === TYPES.bucketV2);
  return buckets.flatMap((bucket) => {
    const companion = (type: string): DeclaredResource[] => resources.filter((r) => r.type === type && refersTo(r, "bucket", bucket));
    const problems: string[] = [];
    const blocks = companion(TYPES.publicAccessBlock);
    const allBlocked = (r: DeclaredResource): boolean =>
      ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every((k) => r.inputs[k] === true);
    if (!blocks.some(allBlocked)) problems.push("needs a BucketPublicAccessBlock with all four switches true");
    const sse = companion(TYPES.bucketEncryption).flatMap((r) => list(r.inputs.rules));
    const algorithms = sse.map((rule) => record(record(rule)?.applyServerSideEncryptionByDefault)?.sseAlgorithm);
    if (!algorithms.some((a) => a === "AES256" || a === "aws:kms" || a === "aws:kms:dsse")) problems.push("needs default server-side encryption (AES256 or aws:kms)");
    const versioning = companion(TYPES.versioning).map((r) => record(r.inputs.versioningConfiguration)?.status);
    if (!versioning.includes("Enabled")) problems.push("needs versioning Enabled");
    const policies = companion(TYPES.bucketPolicy).map((r) => parsePolicyDocument(r.inputs.policy));
    if (!policies.some((p) => typeof p !== "string" && p.Statement.some(deniesInsecureTransport))) problems.push("needs a bucket policy denying aws:SecureTransport false");
    const lifecycles = companion(TYPES.lifecycle).flatMap((r) => list(r.inputs.rules).map(record));
    const bounded = lifecycles.some((rule) => rule?.status === "Enabled" && (rule.expiration !== undefined || rule.noncurrentVersionExpiration !== undefined));
    const abortsUploads = lifecycles.some((rule) => rule?.status === "Enabled" && rule.abortIncompleteMultipartUpload !== undefined);
    if (!bounded || !abortsUploads) problems.push("needs enabled lifecycle rules that expire old versions and abort incomplete multipart uploads");
    return problems.map((m) => violation("buckets-hardened", bucket, m));
  });
}

function deniesInsecureTransport(s: PolicyStatement): boolean {
  return s.Effect === "Deny" && record(s.Condition?.Bool)?.["aws:SecureTransport"] === "false";
}

/**
 * The instances' group has no ingress at all and egress only to 443 anywhere and 2049 to the EFS
 * group; the EFS group admits only 2049 from the instances' group.
 */
export function securityGroupsMinimal(resources: readonly DeclaredResource[]): Violation[] {
  const groups = resources.filter((r) => r.type === TYPES.securityGroup);
  const byRole = (role: string): DeclaredResource[] => groups.filter((g) => record(g.inputs.tags)?.[ROLE_TAG] === role);
  const instanceGroups = byRole("instance");
  const efsGroups = byRole("efs");
  const problems: Violation[] = [];
  for (const group of groups.filter((g) => !["instance", "efs"].includes(String(record(g.inputs.tags)?.[ROLE_TAG])))) {
    problems.push(violation("security-groups-minimal", group, `a security group needs the tag ${ROLE_TAG} = instance or efs, so its rules are checked`));
  }
  for (const rule of resources.filter((r) => isStandaloneRule(r, "ingress") || isStandaloneRule(r, "egress"))) {
    if (!groups.some((g) => refersTo(rule, "securityGroupId", g))) {
      problems.push(violation("security-groups-minimal", rule, "the rule is attached by a literal group id; reference the declared group, so the group's rules are checked"));
    }
  }
  const rulesOf = (group: DeclaredResource, direction: "ingress" | "egress"): RuleLike[] => [
    ...list(group.inputs[direction]).map((r) => ruleLike(record(r) ?? {})),
    ...resources.filter((r) => isStandaloneRule(r, direction) && refersTo(r, "securityGroupId", group)).map((r) => ({ ...ruleLike(r.inputs), resource: r })),
  ];
  for (const group of instanceGroups) {
    if (rulesOf(group, "ingress").length > 0) problems.push(violation("instance-sg-no-ingress", group, "the instances' security group has an ingress rule; it must have none"));
    for (const rule of rulesOf(group, "egress")) {
      const https = rule.fromPort === HTTPS_PORT && rule.toPort === HTTPS_PORT && rule.protocol === "tcp";
      const { resource } = rule;
      const nfsToEfs = rule.fromPort === NFS_PORT && rule.toPort === NFS_PORT && rule.protocol === "tcp" && resource !== undefined && efsGroups.some((g) => refersTo(resource, "referencedSecurityGroupId", g));
      if (!https && !nfsToEfs) problems.push(violation("instance-sg-egress-minimal", group, `egress ${rule.protocol} ${rule.fromPort}-${rule.toPort} is neither 443 nor 2049 to the EFS group`));
    }
  }
  for (const group of efsGroups) {
    for (const rule of rulesOf(group, "ingress")) {
      const { resource } = rule;
      const fromInstances = resource !== undefined && instanceGroups.some((g) => refersTo(resource, "referencedSecurityGroupId", g));
      if (!(rule.fromPort === NFS_PORT && rule.toPort === NFS_PORT && rule.protocol === "tcp" && fromInstances)) {
        problems.push(violation("efs-sg-nfs-from-instances", group, `ingress ${rule.protocol} ${rule.fromPort}-${rule.toPort} is not 2049 from the instances' group`));
      }
    }
  }
  return problems;
}

/** The boundary an instance role's policy must stay within. */
export interface InstanceScope {
  readonly instance: string;
  /** The fleet the instance belongs to (its role's FLEET_TAG). */
  readonly fleet: string;
}

/**
 * An instance role's policy reaches only its own things: objects under `bootstrap/<instance>/` (and
 * the fleet's release pin) to read, its own `status/<instance>.json` to write and nothing else to
 * write, a listing conditioned on that prefix, exactly its fleet's parameter
 * `/<fleet>/<instance>/age-identity` (no wildcard: not another instance's, not another fleet's),
 * KMS only via SSM for that parameter, and EFS only through an access point.
 */
export function instancePolicyScoped(document: PolicyDocument, scope: InstanceScope): string[] {
  const prefix = `bootstrap/${scope.instance}/`;
  const problems: string[] = [];
  if (!FLEET_NAME.test(scope.fleet)) return [`${JSON.stringify(scope.fleet)} is not a fleet name, so no parameter can be this instance's`];
  // A wildcard in the instance's own name would make every "own" prefix and parameter reach others.
  if (!/^[A-Za-z0-9-]{1,64}$/.test(scope.instance)) return [`${JSON.stringify(scope.instance)} is not an instance name, so nothing can be this instance's`];
  const ownParameter = ownParameterArn(scope);
  for (const s of document.Statement.filter((st) => st.Effect === "Allow")) {
    const label = s.Sid ?? JSON.stringify(strings(s.Action));
    for (const action of strings(s.Action)) {
      if (!INSTANCE_ACTIONS.has(action)) problems.push(`${label}: action ${action} is not one an instance needs`);
    }
    for (const resource of strings(s.Resource)) {
      const s3 = /^arn:aws[\w-]*:s3:::([^/]+)(\/(.*))?$/.exec(resource);
      if (s3) {
        if (s3[2] !== undefined) {
          const key = s3[3] ?? "";
          for (const action of strings(s.Action).filter((a) => a.startsWith("s3:") && a !== "s3:ListBucket")) {
            const allowed = objectScope(action, scope.instance);
            if (!allowed.accepts(key)) problems.push(`${label}: ${action} on ${resource} reaches beyond ${allowed.description}`);
          }
        }
        if (s3[2] === undefined) {
          const prefixes = strings(s.Condition?.StringLike?.["s3:prefix"]);
          if (prefixes.length === 0 || prefixes.some((p) => !p.startsWith(prefix))) problems.push(`${label}: listing ${resource} must be conditioned on s3:prefix ${prefix}`);
        }
        continue;
      }
      if (/:ssm:/.test(resource) && !ownParameter.test(resource)) {
        problems.push(`${label}: ${resource} is not this instance's parameter (exactly ${ageIdentityParameterName(scope.fleet, scope.instance)}, no wildcard)`);
      }
      if (/:kms:/.test(resource)) {
        const context = s.Condition?.StringEquals?.["kms:EncryptionContext:PARAMETER_ARN"];
        const via = s.Condition?.StringEquals?.["kms:ViaService"];
        if (typeof context !== "string" || !ownParameter.test(context) || typeof via !== "string" || !via.startsWith("ssm.")) {
          problems.push(`${label}: kms:Decrypt must be conditioned on ViaService ssm and this instance's PARAMETER_ARN (${ageIdentityParameterName(scope.fleet, scope.instance)})`);
        }
      }
      if (/:elasticfilesystem:/.test(resource) && typeof s.Condition?.StringEquals?.["elasticfilesystem:AccessPointArn"] !== "string") {
        problems.push(`${label}: EFS access must be conditioned on elasticfilesystem:AccessPointArn`);
      }
      if (!/:(ssm|kms|elasticfilesystem):/.test(resource)) problems.push(`${label}: resource ${resource} is outside what an instance may reach`);
    }
  }
  return problems;
}

/**
 * The ARN of exactly the instance's own parameter, in any one region and account: a wildcard
 * anywhere (`*`, `?`) would reach other parameters, so none matches. Fleet and instance names hold
 * no regular-expression characters but `-` (both are checked first), which is literal outside a class.
 */
function ownParameterArn(scope: InstanceScope): RegExp {
  return new RegExp(`^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]+:parameter${ageIdentityParameterName(scope.fleet, scope.instance)}$`);
}

/** The fleet's release pin that self-update reads (infra/release.ts writes it). */
export const RELEASE_KEY = "release/current.json";

/** Which object keys an instance may reach with an S3 object action. */
function objectScope(action: string, instance: string): { accepts: (key: string) => boolean; description: string } {
  const prefix = `bootstrap/${instance}/`;
  const status = `status/${instance}.json`;
  switch (action) {
    case "s3:PutObject":
      return { accepts: (key) => key === status, description: `its own health report ${status}` };
    case "s3:GetObject":
      return { accepts: (key) => key.startsWith(prefix) || key === RELEASE_KEY, description: `${prefix} and ${RELEASE_KEY}` };
    default:
      return { accepts: (key) => key.startsWith(prefix), description: prefix };
  }
}

const INSTANCE_ACTIONS: ReadonlySet<string> = new Set([
  "s3:ListBucket",
  "s3:GetObject",
  "s3:GetObjectVersion",
  "s3:PutObject",
  "ssm:GetParameter",
  "kms:Decrypt",
  "elasticfilesystem:ClientMount",
  "elasticfilesystem:ClientWrite",
]);

/** Applies `instancePolicyScoped` to every policy attached to a role tagged with its instance. */
export function instanceRolesScoped(resources: readonly DeclaredResource[]): Violation[] {
  const roles = resources.filter((r) => r.type === TYPES.role && typeof record(r.inputs.tags)?.[INSTANCE_TAG] === "string");
  return roles.flatMap((role) => {
    const instance = String(record(role.inputs.tags)?.[INSTANCE_TAG]);
    const attached = resources.filter((r) => r.type === TYPES.rolePolicy && refersTo(r, "role", role));
    const managed = list(role.inputs.managedPolicyArns);
    const problems: Violation[] = managed.map(() => violation("instance-role-scoped", role, "an instance role takes no managed policies (they are not scoped to one instance)"));
    const fleet = record(role.inputs.tags)?.[FLEET_TAG];
    for (const policy of attached) {
      const document = parsePolicyDocument(policy.inputs.policy);
      if (typeof document === "string") continue; // policyDocumentsBounded reports it
      // Without its fleet the role's parameter is unknown, so nothing could prove the policy scoped.
      // (Unknown at preview too: a known document with an unknown fleet fails rather than passes.)
      if (typeof fleet !== "string") {
        problems.push(violation("instance-role-scoped", role, `an instance role needs the tag ${FLEET_TAG} naming its fleet, so the parameter it may read is known`));
        continue;
      }
      problems.push(...instancePolicyScoped(document, { instance, fleet }).map((m) => violation("instance-role-scoped", policy, m)));
    }
    return problems;
  });
}

/**
 * An instance sits in exactly one security group, by id (never by name), and a group declared in
 * this stack must be the instances' group. (In an instance stack the id comes from the fleet, whose
 * own check holds the group to no ingress.)
 */
export function instanceSecurityGroups(resources: readonly DeclaredResource[]): Violation[] {
  const groups = resources.filter((r) => r.type === TYPES.securityGroup);
  return resources
    .filter((r) => r.type === TYPES.instance || r.type === TYPES.spotInstanceRequest)
    .flatMap((instance) => {
      const problems: string[] = [];
      if (list(instance.inputs.securityGroups).length > 0 || instance.inputs.securityGroups === UNKNOWN) problems.push("security groups by name are not allowed; use vpcSecurityGroupIds");
      const ids = instance.inputs.vpcSecurityGroupIds;
      if (ids === UNKNOWN || list(ids).length !== 1) problems.push("exactly one security group (the instances' group) must be attached");
      for (const group of groups.filter((g) => refersTo(instance, "vpcSecurityGroupIds", g))) {
        if (record(group.inputs.tags)?.[ROLE_TAG] !== "instance") problems.push(`${group.name} is not the instances' group`);
      }
      return problems.map((m) => violation("instance-security-groups", instance, m));
    });
}

export const STACK_RULES: ReadonlyArray<Invariant<StackCheck>> = [
  {
    name: "instance-security-groups",
    description: "An instance is in exactly one security group, the instances' group, by id.",
    check: instanceSecurityGroups,
  },
  { name: "buckets-hardened", description: "Buckets block public access, encrypt, version, deny non-TLS and bound their growth.", check: bucketsHardened },
  {
    name: "security-groups-minimal",
    description: "Instances admit nothing and reach only 443 and the hive mind; EFS admits only the instances.",
    check: securityGroupsMinimal,
  },
  {
    name: "instance-role-scoped",
    description: "An instance role reaches only its own bootstrap prefix, parameter, EFS access point and health report (the one object it may write).",
    check: instanceRolesScoped,
  },
];

/** Every rule over every resource: what the tests assert is empty. */
export function checkAll(resources: readonly DeclaredResource[]): Violation[] {
  return [...resources.flatMap((r) => RESOURCE_RULES.flatMap((rule) => rule.check(r))), ...STACK_RULES.flatMap((rule) => rule.check(resources))];
}

// ---------------------------------------------------------------------------------------------

interface RuleLike {
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly resource?: DeclaredResource;
}

/** A rule's reach; a protocol or port unknown at preview counts as all of them (so it cannot pass as safe). */
function ruleLike(inputs: Readonly<Record<string, unknown>>): RuleLike {
  const rawProtocol = inputs.ipProtocol ?? inputs.protocol ?? "-1";
  const protocol = rawProtocol === UNKNOWN ? "-1" : String(rawProtocol).toLowerCase();
  const all = protocol === "-1" || protocol === "all";
  const port = (value: unknown, fallback: number): number => (value === UNKNOWN ? fallback : Number(value ?? fallback));
  const unknownPorts = inputs.fromPort === UNKNOWN || inputs.toPort === UNKNOWN;
  return {
    protocol: protocol === "6" ? "tcp" : protocol,
    fromPort: all || unknownPorts ? 0 : port(inputs.fromPort, 0),
    toPort: all || unknownPorts ? 65535 : port(inputs.toPort, 65535),
  };
}

function ingressRulesOf(r: DeclaredResource): RuleLike[] {
  if (r.type === TYPES.securityGroup) return list(r.inputs.ingress).map((x) => ruleLike(record(x) ?? {}));
  return isStandaloneRule(r, "ingress") ? [ruleLike(r.inputs)] : [];
}

/** A rule declared as its own resource: the vpc rule type of that direction, or the legacy type with `type` set to it. */
function isStandaloneRule(r: DeclaredResource, direction: "ingress" | "egress"): boolean {
  if (r.type === TYPES.legacyRule) return r.inputs.type === direction;
  return r.type === (direction === "ingress" ? TYPES.ingressRule : TYPES.egressRule);
}

function coversPort(rule: RuleLike, port: number): boolean {
  return (rule.protocol === "tcp" || rule.protocol === "-1" || rule.protocol === "all") && rule.fromPort <= port && port <= rule.toPort;
}

function refersTo(r: DeclaredResource, property: string, target: DeclaredResource): boolean {
  return (r.refs[property] ?? []).includes(target.urn);
}

function violation(rule: string, r: DeclaredResource, message: string): Violation {
  return { rule, resource: `${r.type}::${r.name}`, urn: r.urn, message };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
