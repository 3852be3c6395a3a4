// Issue 16, part 3: the coverage gaps the pack had, each a deliberately insecure resource that
// `checkAll` (and so the pack, which runs the same functions) must now reject, and unknown values
// at preview, which pass only where the rule can prove them safe.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkAll, ROLE_TAG, TYPES, UNKNOWN, type DeclaredResource } from "../../infra/invariants.ts";

let serial = 0;
function res(type: string, name: string, inputs: Record<string, unknown>, refs: Record<string, string[]> = {}): DeclaredResource {
  serial++;
  return { urn: `urn:pulumi:test::clawdinators::${type}::${name}-${serial}`, type, name, inputs, refs };
}

const rules = (resources: readonly DeclaredResource[]): string[] => [...new Set(checkAll(resources).map((v) => v.rule))].sort();
const IMDS = { httpTokens: "required", httpPutResponseHopLimit: 1 };
const doc = (statement: Record<string, unknown>): string => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });

describe("policy pack coverage gaps (issue 16)", () => {
  it("a security group with no role tag is not silently skipped", () => {
    const open = res(TYPES.securityGroup, "untagged", { ingress: [{ protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"] }] });
    assert.ok(rules([open]).includes("security-groups-minimal"), JSON.stringify(checkAll([open])));
  });

  it("an ingress rule attached by a literal group id (no reference to a declared group) is rejected", () => {
    const rule = res(TYPES.ingressRule, "by-id", { securityGroupId: "sg-0123456789abcdef0", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" });
    assert.ok(rules([rule]).includes("security-groups-minimal"));
  });

  it("AdministratorAccess or any *FullAccess attached to a role, user or group is rejected; user and group inline policies are checked", () => {
    for (const arn of ["arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/AmazonS3FullAccess", "arn:aws:iam::aws:policy/IAMFullAccess"]) {
      for (const type of ["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/userPolicyAttachment:UserPolicyAttachment", "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"]) {
        assert.ok(rules([res(type, "attach", { role: "r", user: "u", group: "g", policyArn: arn })]).includes("no-broad-managed-policies"), `${type} ${arn}`);
      }
      assert.ok(rules([res(TYPES.role, "r", { assumeRolePolicy: doc({ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }), managedPolicyArns: [arn] })]).includes("no-broad-managed-policies"));
    }
    for (const type of ["aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"]) {
      assert.ok(rules([res(type, "inline", { policy: doc({ Effect: "Allow", Action: "*", Resource: "*" }) })]).includes("policy-bounded"), type);
    }
  });

  it("a wildcard resource ARN on a write action is rejected", () => {
    for (const resource of ["arn:aws:s3:::*", "arn:aws:s3:::*/*", "arn:aws:kms:eu-central-1:*:key/*", "arn:aws:ssm:*:123456789012:parameter/*", "arn:*:iam::123456789012:role/x"]) {
      const policy = res(TYPES.rolePolicy, "p", { policy: doc({ Effect: "Allow", Action: ["s3:PutObject", "kms:Decrypt", "ssm:PutParameter"], Resource: resource }) });
      assert.ok(rules([policy]).includes("policy-bounded"), resource);
    }
  });

  it("sts actions in a permission policy are not trust: sts:* or AssumeRole on * is rejected; a trust policy with Principal * is rejected", () => {
    for (const action of ["sts:*", "sts:AssumeRole"]) {
      assert.ok(rules([res(TYPES.rolePolicy, "p", { policy: doc({ Effect: "Allow", Action: action, Resource: "*" }) })]).includes("policy-bounded"), action);
    }
    const anyone = res(TYPES.role, "r", { assumeRolePolicy: doc({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }) });
    assert.ok(rules([anyone]).includes("policy-bounded"));
  });

  it("launch templates: secrets in base64 user data, and unencrypted EBS mappings, are rejected", () => {
    const userData = Buffer.from("#!/bin/sh\necho AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ > /k").toString("base64");
    assert.ok(rules([res(TYPES.launchTemplate, "lt", { metadataOptions: IMDS, userData })]).includes("no-secrets-in-user-data"));
    const unencrypted = res(TYPES.launchTemplate, "lt2", { metadataOptions: IMDS, blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 20, encrypted: "false" } }] });
    assert.ok(rules([unencrypted]).includes("volumes-encrypted"));
  });

  it("spot instance requests and launch configurations need IMDSv2 and encrypted volumes too", () => {
    for (const type of ["aws:ec2/spotInstanceRequest:SpotInstanceRequest", "aws:ec2/launchConfiguration:LaunchConfiguration"]) {
      const found = rules([res(type, "x", { rootBlockDevice: { encrypted: true } })]);
      assert.ok(found.includes("imdsv2-required"), `${type}: ${found.join(",")}`);
    }
  });

  it("an instance with extra security groups, or groups by name, is rejected", () => {
    const base = { metadataOptions: IMDS, rootBlockDevice: { encrypted: true } };
    assert.ok(rules([res(TYPES.instance, "i", { ...base, vpcSecurityGroupIds: ["sg-1", "sg-2"] })]).includes("instance-security-groups"));
    assert.ok(rules([res(TYPES.instance, "i", { ...base, vpcSecurityGroupIds: ["sg-1"], securityGroups: ["default"] })]).includes("instance-security-groups"));
    const efs = res(TYPES.securityGroup, "efs", { tags: { [ROLE_TAG]: "efs" } });
    const onEfs = res(TYPES.instance, "i", { ...base, vpcSecurityGroupIds: ["sg-efs"] }, { vpcSecurityGroupIds: [efs.urn] });
    assert.ok(rules([efs, onEfs]).includes("instance-security-groups"));
    assert.deepEqual(rules([res(TYPES.instance, "ok", { ...base, vpcSecurityGroupIds: ["sg-from-fleet"] })]), []);
  });

  it("Discord bot tokens and github_pat_ tokens are rejected in any string input of any resource", () => {
    const discord = "MTA1NjM1MDA2NDA2NTkwNDg2Nw.GbXyZa.abcdefghijklmnopqrstuvwxyz0123456789ab";
    const pat = `github_pat_11ABCDEFG0${"x".repeat(12)}_${"Yz9".repeat(20)}`;
    for (const token of [discord, pat]) {
      const bucketTags = res(TYPES.bucketV2, "b", { tags: { note: `token ${token}` } });
      assert.ok(checkAll([bucketTags]).some((v) => v.rule === "no-secrets-in-inputs"), token.slice(0, 12));
      const nested = res("aws:lambda/function:Function", "f", { environment: { variables: { TOKEN: token } } });
      assert.ok(checkAll([nested]).some((v) => v.rule === "no-secrets-in-inputs"));
    }
  });
});

describe("unknown values at preview", () => {
  it("fail where safety depends on them: encryption, IMDSv2, SSH ports, a companion's public-access switches", () => {
    assert.ok(rules([res(TYPES.volume, "v", { encrypted: UNKNOWN })]).includes("volumes-encrypted"));
    assert.ok(rules([res(TYPES.instance, "i", { metadataOptions: { httpTokens: UNKNOWN, httpPutResponseHopLimit: 1 }, rootBlockDevice: { encrypted: true }, vpcSecurityGroupIds: ["sg"] })]).includes("imdsv2-required"));
    assert.ok(rules([res(TYPES.ingressRule, "r", { ipProtocol: "tcp", fromPort: UNKNOWN, toPort: UNKNOWN })]).includes("no-ssh-ingress"));
    assert.ok(rules([res(TYPES.fileSystem, "fs", { encrypted: UNKNOWN })]).includes("efs-encrypted"));
  });

  it("a whole unknown input that only a policy document or user data fills is checked again at up, not passed as safe", () => {
    const violations = checkAll([res(TYPES.rolePolicy, "p", { policy: UNKNOWN })]);
    assert.deepEqual(violations, [], "re-checked at `pulumi up`, when the engine sends the value (docs/SECURITY.md)");
  });
});
