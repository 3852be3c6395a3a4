// The program's security invariants as pure functions over declared resources (type + inputs).
// The mock tests walk every resource of a stack through them, and the policy pack
// (infra/policy/) runs the very same functions under `pulumi preview --policy-pack`.
// Nothing here imports Pulumi: the inputs are plain values, unknown ones simply absent.

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
  kmsKey: "aws:kms/key:Key",
  ssmParameter: "aws:ssm/parameter:Parameter",
} as const;

/** Tag on a security group that says what it guards; the invariants key off it. */
export const ROLE_TAG = "clawdinators:role";
/** Tag on an instance role naming its CLAWDINATOR; scopes its policy check. */
export const INSTANCE_TAG = "clawdinators:instance";

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

/** Instances and launch templates require IMDSv2 tokens with a hop limit of 1 (no container reach-through). */
export function imdsV2Required(r: DeclaredResource): Violation[] {
  if (r.type !== TYPES.instance && r.type !== TYPES.launchTemplate) return [];
  const options = record(r.inputs.metadataOptions);
  const problems: Violation[] = [];
  if (options?.httpTokens !== "required") problems.push(violation("imdsv2-required", r, 'metadataOptions.httpTokens must be "required"'));
  if (options?.httpPutResponseHopLimit !== 1) problems.push(violation("imdsv2-required", r, "metadataOptions.httpPutResponseHopLimit must be 1"));
  return problems;
}

/** Every EBS volume (root, attached, standalone) is encrypted. */
export function volumesEncrypted(r: DeclaredResource): Violation[] {
  if (r.type === TYPES.volume) return r.inputs.encrypted === true ? [] : [violation("volumes-encrypted", r, "the volume must set encrypted: true")];
  if (r.type !== TYPES.instance) return [];
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
    if (value === undefined) return []; // unknown during preview; checked again at update time
    const parsed = parsePolicyDocument(value);
    if (typeof parsed === "string") return [violation("policy-parses", r, `${property}: ${parsed}`)];
    return parsed.Statement.flatMap((s, i) => statementProblems(s).map((m) => violation("policy-bounded", r, `${property} statement ${s.Sid ?? i}: ${m}`)));
  });
}

function statementProblems(s: PolicyStatement): string[] {
  if (s.Effect !== "Allow") return [];
  const problems: string[] = [];
  if (s.NotAction !== undefined) problems.push("Allow with NotAction grants every other action");
  if (s.NotResource !== undefined) problems.push("Allow with NotResource grants every other resource");
  const actions = strings(s.Action);
  const resources = strings(s.Resource);
  const wildcardResource = resources.includes("*");
  if (actions.some(isWildcardAction) && wildcardResource) problems.push(`wildcard action ${actions.join(",")} on resource *`);
  else if (wildcardResource && !isServiceTrust(s)) {
    const scopable = actions.filter((a) => !UNSCOPABLE_ACTION.test(a));
    if (scopable.length > 0) problems.push(`resource * for actions IAM can scope: ${scopable.join(", ")}`);
  }
  return problems;
}

/** Reads IAM cannot scope to a resource, so `*` is the only valid resource for them. */
const UNSCOPABLE_ACTION = /^[a-z0-9-]+:(Describe|List|Get[A-Z]\w*Location)\w*\*?$/;

function isWildcardAction(action: string): boolean {
  return action === "*" || /^[a-z0-9-]+:\*$/.test(action);
}

/** Trust policies name principals, not resources. */
function isServiceTrust(s: PolicyStatement): boolean {
  return strings(s.Action).every((a) => a.startsWith("sts:"));
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

/** No literal secret material in user data: age identities, private keys, tokens. */
export function noSecretsInUserData(r: DeclaredResource): Violation[] {
  if (r.type !== TYPES.instance && r.type !== TYPES.launchTemplate) return [];
  const userData = [r.inputs.userData, r.inputs.userDataBase64].filter((v): v is string => typeof v === "string");
  return userData.flatMap((text) => {
    const decoded = text === r.inputs.userDataBase64 ? Buffer.from(text, "base64").toString("utf8") : text;
    return SECRET_PATTERNS.filter((p) => p.test(decoded)).map((p) => violation("no-secrets-in-user-data", r, `user data matches ${p.source}`));
  });
}

/** Shapes of secret material that must never appear in plain text. */
const SECRET_PATTERNS: readonly RegExp[] = [
  /AGE-SECRET-KEY-1/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\bsk-ant-[\w-]{10,}/,
  /\bsk-[A-Za-z0-9]{20,}/,
  /\bgh[pousr]_[A-Za-z0-9]{30,}/,
  /\bAKIA[0-9A-Z]{16}\b/,
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
}

/**
 * An instance role's policy reaches only its own things: objects under `bootstrap/<instance>/` (and
 * the fleet's release pin) to read, its own `status/<instance>.json` to write and nothing else to
 * write, a listing conditioned on that prefix, the parameter under `/clawdinators/<instance>/`, KMS only
 * via SSM for that parameter, and EFS only through an access point.
 */
export function instancePolicyScoped(document: PolicyDocument, scope: InstanceScope): string[] {
  const prefix = `bootstrap/${scope.instance}/`;
  const problems: string[] = [];
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
      if (/:ssm:/.test(resource) && !resource.includes(`:parameter/clawdinators/${scope.instance}/`)) problems.push(`${label}: ${resource} is not this instance's parameter`);
      if (/:kms:/.test(resource)) {
        const context = s.Condition?.StringEquals?.["kms:EncryptionContext:PARAMETER_ARN"];
        const via = s.Condition?.StringEquals?.["kms:ViaService"];
        if (typeof context !== "string" || !context.includes(`/clawdinators/${scope.instance}/`) || typeof via !== "string" || !via.startsWith("ssm.")) {
          problems.push(`${label}: kms:Decrypt must be conditioned on ViaService ssm and this instance's PARAMETER_ARN`);
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
    for (const policy of attached) {
      const document = parsePolicyDocument(policy.inputs.policy);
      if (typeof document === "string") continue; // policyDocumentsBounded reports it
      problems.push(...instancePolicyScoped(document, { instance }).map((m) => violation("instance-role-scoped", policy, m)));
    }
    return problems;
  });
}

export const STACK_RULES: ReadonlyArray<Invariant<StackCheck>> = [
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

function ruleLike(inputs: Readonly<Record<string, unknown>>): RuleLike {
  const protocol = String(inputs.ipProtocol ?? inputs.protocol ?? "-1").toLowerCase();
  const all = protocol === "-1" || protocol === "all";
  return {
    protocol: protocol === "6" ? "tcp" : protocol,
    fromPort: all ? 0 : Number(inputs.fromPort ?? 0),
    toPort: all ? 65535 : Number(inputs.toPort ?? 65535),
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
