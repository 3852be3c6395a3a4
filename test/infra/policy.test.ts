// The policy pack's rules, called directly on the resources the mocks captured: silent on the
// program as written, and each one firing on a deliberately insecure variant.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { RESOURCE_RULES, STACK_RULES, TYPES, type DeclaredResource } from "../../infra/invariants.ts";
import { POLICIES } from "../../infra/policy/policies.ts";
import { fleetConfig, instanceConfig, runStack, type CapturedResource } from "./harness.ts";

let program: CapturedResource[] = [];

/** The resources as the policy engine hands them over: props, and dependencies per property. */
function asPolicyResources(resources: readonly DeclaredResource[]): PolicyResource[] {
  const stubs = new Map(resources.map((r) => [r.urn, { urn: r.urn } as PolicyResource]));
  return resources.map(
    (r) =>
      ({
        urn: r.urn,
        type: r.type,
        name: r.name,
        props: r.inputs,
        propertyDependencies: Object.fromEntries(Object.entries(r.refs).map(([p, urns]) => [p, urns.map((u) => stubs.get(u) ?? ({ urn: u } as PolicyResource))])),
      }) as PolicyResource,
  );
}

/** Runs every policy of the pack; returns `policy: message` for each violation reported. */
async function runPack(resources: readonly DeclaredResource[]): Promise<string[]> {
  const reported: string[] = [];
  const policyResources = asPolicyResources(resources);
  for (const policy of POLICIES) {
    const report = (message: string): void => void reported.push(`${policy.name}: ${message}`);
    if ("validateStack" in policy) {
      const args = { resources: policyResources, stackTags: new Map() } as unknown as StackValidationArgs;
      await (policy as StackValidationPolicy).validateStack(args, report);
    } else {
      const validate = [(policy as ResourceValidationPolicy).validateResource ?? []].flat();
      for (const r of policyResources) {
        for (const v of validate) await v({ ...r, stackTags: new Map() } as unknown as ResourceValidationArgs, report);
      }
    }
  }
  return reported;
}

function edited(resources: readonly CapturedResource[], match: (r: CapturedResource) => boolean, change: (inputs: Record<string, unknown>) => Record<string, unknown>): CapturedResource[] {
  let hits = 0;
  const result = resources.map((r) => {
    if (!match(r)) return r;
    hits++;
    return { ...r, inputs: change(structuredClone(r.inputs) as Record<string, unknown>) };
  });
  assert.ok(hits > 0, "the variant changed nothing");
  return result;
}

const named = (type: string, name?: string) => (r: CapturedResource): boolean => r.type === type && (name === undefined || r.name === name);

describe("the policy pack", () => {
  before(async () => {
    const fleet = await runStack({ stack: "fleet", config: fleetConfig() });
    const one = await runStack({ stack: "clawdinator-1", config: instanceConfig(), secretKeys: ["clawdinators:ageIdentity"], fleetOutputs: fleet.outputs });
    program = [...fleet.resources, ...one.resources];
  });

  it("covers every invariant, each as a mandatory policy with a unique name", () => {
    assert.equal(POLICIES.length, RESOURCE_RULES.length + STACK_RULES.length);
    assert.equal(new Set(POLICIES.map((p) => p.name)).size, POLICIES.length);
    assert.ok(POLICIES.every((p) => p.enforcementLevel === "mandatory"));
  });

  it("passes the program as written (fleet and an instance)", async () => {
    assert.ok(program.length > 40, `only ${program.length} resources captured`);
    assert.deepEqual(await runPack(program), []);
  });

  const variants: Array<[what: string, policy: string, variant: () => CapturedResource[]]> = [
    [
      "an ingress rule on 22",
      "no-ssh-ingress",
      () => {
        const group = program.find((r) => r.type === TYPES.securityGroup && r.name === "instances") as CapturedResource;
        const rule: CapturedResource = {
          urn: "urn:pulumi:fleet::clawdinators::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::ssh",
          type: TYPES.ingressRule,
          name: "ssh",
          id: "sgr-1",
          state: {},
          inputs: { securityGroupId: group.id, ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
          refs: { securityGroupId: [group.urn] },
        };
        return [...program, rule];
      },
    ],
    [
      "an inline ingress on the instances' group (any port)",
      "security-groups-minimal",
      () => edited(program, named(TYPES.securityGroup, "instances"), (i) => ({ ...i, ingress: [{ protocol: "tcp", fromPort: 8080, toPort: 8080, cidrBlocks: ["10.0.0.0/8"] }] })),
    ],
    ...(["ingress", "egress"] as const).map((direction): [string, string, () => CapturedResource[]] => [
      `a legacy aws.ec2.SecurityGroupRule of type ${direction} on the instances' group`,
      "security-groups-minimal",
      () => {
        const group = program.find((r) => r.type === TYPES.securityGroup && r.name === "instances") as CapturedResource;
        const rule: CapturedResource = {
          urn: `urn:pulumi:fleet::clawdinators::aws:ec2/securityGroupRule:SecurityGroupRule::legacy-${direction}`,
          type: TYPES.legacyRule,
          name: `legacy-${direction}`,
          id: "sgr-2",
          state: {},
          inputs: { type: direction, securityGroupId: group.id, protocol: "tcp", fromPort: 8080, toPort: 8080, cidrBlocks: ["0.0.0.0/0"] },
          refs: { securityGroupId: [group.urn] },
        };
        return [...program, rule];
      },
    ]),
    [
      "egress to everything",
      "security-groups-minimal",
      () => edited(program, (r) => r.type === TYPES.egressRule && r.inputs.fromPort === 443, (i) => ({ ...i, ipProtocol: "-1", fromPort: undefined, toPort: undefined })),
    ],
    ["an unencrypted root volume", "volumes-encrypted", () => edited(program, named(TYPES.instance), (i) => ({ ...i, rootBlockDevice: { ...(i.rootBlockDevice as object), encrypted: false } }))],
    ["an extra unencrypted EBS volume", "volumes-encrypted", () => edited(program, named(TYPES.instance), (i) => ({ ...i, ebsBlockDevices: [{ deviceName: "/dev/sdf", volumeSize: 10 }] }))],
    ["IMDSv1 allowed", "imdsv2-required", () => edited(program, named(TYPES.instance), (i) => ({ ...i, metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 1 } }))],
    ["IMDS hop limit 2", "imdsv2-required", () => edited(program, named(TYPES.instance), (i) => ({ ...i, metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } }))],
    ["an unencrypted EFS", "efs-encrypted", () => edited(program, named(TYPES.fileSystem), (i) => ({ ...i, encrypted: false }))],
    [
      "a * policy",
      "policy-bounded",
      () => edited(program, named(TYPES.rolePolicy, "access"), (i) => ({ ...i, policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) })),
    ],
    [
      "an s3:* on * policy",
      "policy-bounded",
      () => edited(program, named(TYPES.rolePolicy, "vmimportAccess"), (i) => ({ ...i, policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["s3:*"], Resource: ["*"] }] }) })),
    ],
    [
      "an Allow with NotAction",
      "policy-bounded",
      () => edited(program, named(TYPES.rolePolicy, "vmimportAccess"), (i) => ({ ...i, policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", NotAction: "iam:*", Resource: "arn:aws:s3:::x" }] }) })),
    ],
    ["a policy that is not JSON", "policy-bounded", () => edited(program, named(TYPES.bucketPolicy, "bootstrapTlsOnly"), (i) => ({ ...i, policy: "{Statement:" }))],
    [
      "an instance role reading every instance's bundle",
      "instance-role-scoped",
      () =>
        edited(program, named(TYPES.rolePolicy, "access"), (i) => ({
          ...i,
          policy: String(i.policy).replace(/bootstrap\/CLAWDINATOR-1\/\*/, "bootstrap/*"),
        })),
    ],
    [
      "an instance role reading another instance's identity",
      "instance-role-scoped",
      () => edited(program, named(TYPES.rolePolicy, "access"), (i) => ({ ...i, policy: String(i.policy).replaceAll("parameter/clawdinators/CLAWDINATOR-1/", "parameter/clawdinators/CLAWDINATOR-2/") })),
    ],
    [
      "an instance role reading every parameter under its own prefix",
      "instance-role-scoped",
      () => edited(program, named(TYPES.rolePolicy, "access"), (i) => ({ ...i, policy: String(i.policy).replaceAll("parameter/clawdinators/CLAWDINATOR-1/age-identity", "parameter/clawdinators/CLAWDINATOR-1/*") })),
    ],
    [
      "an instance role of another fleet (clawdinators-staging) reading this fleet's CLAWDINATOR-1 identity",
      "instance-role-scoped",
      () => edited(program, named(TYPES.role, "role"), (i) => ({ ...i, tags: { ...(i.tags as Record<string, string>), "clawdinators:fleet": "clawdinators-staging" } })),
    ],
    [
      "an instance role without the tag naming its fleet",
      "instance-role-scoped",
      () =>
        edited(program, named(TYPES.role, "role"), (i) => {
          const { "clawdinators:fleet": _fleet, ...tags } = i.tags as Record<string, string>;
          return { ...i, tags };
        }),
    ],
    [
      "an instance role that may write every instance's health report",
      "instance-role-scoped",
      () => edited(program, named(TYPES.rolePolicy, "access"), (i) => ({ ...i, policy: String(i.policy).replace("status/CLAWDINATOR-1.json", "status/*") })),
    ],
    [
      "an instance role that may write another instance's health report",
      "instance-role-scoped",
      () => edited(program, named(TYPES.rolePolicy, "access"), (i) => ({ ...i, policy: String(i.policy).replace("status/CLAWDINATOR-1.json", "status/CLAWDINATOR-2.json") })),
    ],
    [
      "an instance role that may write its own bootstrap bundle",
      "instance-role-scoped",
      () =>
        edited(program, named(TYPES.rolePolicy, "access"), (i) => ({
          ...i,
          policy: String(i.policy).replace(/"s3:PutObject","Resource":"([^"]+)\/status\/CLAWDINATOR-1\.json"/, '"s3:PutObject","Resource":"$1/bootstrap/CLAWDINATOR-1/*"'),
        })),
    ],
    ["a bucket without its public access block", "buckets-hardened", () => program.filter((r) => !(r.type === TYPES.publicAccessBlock && r.name === "imagesPublicAccess"))],
    ["a bucket with public policies allowed", "buckets-hardened", () => edited(program, named(TYPES.publicAccessBlock, "bootstrapPublicAccess"), (i) => ({ ...i, blockPublicPolicy: false }))],
    ["a bucket without encryption", "buckets-hardened", () => program.filter((r) => !(r.type === TYPES.bucketEncryption && r.name === "bootstrapEncryption"))],
    ["a bucket without its lifecycle", "buckets-hardened", () => program.filter((r) => !(r.type === TYPES.lifecycle && r.name === "imagesLifecycle"))],
    ["a plain-text parameter", "parameters-secure", () => edited(program, named(TYPES.ssmParameter), (i) => ({ ...i, type: "String" }))],
    ["an age key in user data", "no-secrets-in-user-data", () => edited(program, named(TYPES.instance), (i) => ({ ...i, userData: `#!/bin/sh\necho AGE-SECRET-KEY-1QQQQ > /root/key` }))],
  ];
  for (const [what, policy, variant] of variants) {
    it(`fails ${what} (${policy})`, async () => {
      const reported = await runPack(variant());
      assert.ok(reported.some((m) => m.startsWith(`${policy}: `)), `expected ${policy}, got ${JSON.stringify(reported)}`);
    });
  }
});
