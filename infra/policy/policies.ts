// The policy pack's policies: thin adapters from @pulumi/policy's arguments to the pure invariants
// in infra/invariants.ts, so `pulumi preview --policy-pack infra/policy` enforces exactly what the
// mock tests assert. Separate from index.ts, which starts the pack's server when loaded.
import type { PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
  bucketsHardened,
  fileSystemEncrypted,
  imdsV2Required,
  instanceRolesScoped,
  noSecretsInUserData,
  noSshIngress,
  parametersSecure,
  policyDocumentsBounded,
  securityGroupsMinimal,
  volumesEncrypted,
  type DeclaredResource,
  type Violation,
} from "../invariants.ts";

type ResourceRule = (r: DeclaredResource) => Violation[];
type StackRule = (resources: readonly DeclaredResource[]) => Violation[];

/** What a validated resource looks like to the invariants. Unknown (preview) values stay absent. */
export function declared(r: Pick<PolicyResource, "urn" | "type" | "name" | "props"> & { propertyDependencies?: PolicyResource["propertyDependencies"] }): DeclaredResource {
  const refs: Record<string, string[]> = {};
  for (const [property, dependencies] of Object.entries(r.propertyDependencies ?? {})) refs[property] = dependencies.map((d) => d.urn);
  return { urn: r.urn, type: r.type, name: r.name, inputs: r.props as Record<string, unknown>, refs };
}

function resourcePolicy(name: string, description: string, rule: ResourceRule): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      for (const v of rule(declared(args))) report(`${v.resource}: ${v.message}`);
    },
  };
}

function stackPolicy(name: string, description: string, rule: StackRule): StackValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
      for (const v of rule(args.resources.map(declared))) report(`${v.resource}: ${v.message}`, v.urn);
    },
  };
}

export const POLICIES: ReadonlyArray<ResourceValidationPolicy | StackValidationPolicy> = [
  resourcePolicy("no-ssh-ingress", "No security group rule admits port 22 (or all ports).", noSshIngress),
  resourcePolicy("imdsv2-required", "Instances require IMDSv2 tokens with a hop limit of 1.", imdsV2Required),
  resourcePolicy("volumes-encrypted", "Every EBS volume, root and attached, is encrypted.", volumesEncrypted),
  resourcePolicy("efs-encrypted", "EFS file systems are encrypted at rest.", fileSystemEncrypted),
  resourcePolicy("parameters-secure", "SSM parameters are KMS-encrypted SecureStrings.", parametersSecure),
  resourcePolicy("policy-bounded", "Policy documents parse; no wildcard action on a wildcard resource, no NotAction/NotResource allows.", policyDocumentsBounded),
  resourcePolicy("no-secrets-in-user-data", "User data carries no keys or tokens.", noSecretsInUserData),
  stackPolicy("buckets-hardened", "Buckets block public access, encrypt, version, deny non-TLS and bound their growth.", bucketsHardened),
  stackPolicy("security-groups-minimal", "Instances admit nothing and reach only 443 and the hive mind; EFS admits only the instances.", securityGroupsMinimal),
  stackPolicy("instance-role-scoped", "An instance role reaches only its own bootstrap prefix, parameter and EFS access point.", instanceRolesScoped),
];
