// The pure pieces on their own: policy documents, the invariant checks' edges, the bundle plan.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { ConfigSchema } from "../../agent/config/schema.ts";
import { agentConfig, BundleError, planBundle } from "../../infra/bundle.ts";
import { instancePolicy, vmImportPolicy } from "../../infra/iam.ts";
import { instancePolicyScoped, policyDocumentsBounded, type DeclaredResource } from "../../infra/invariants.ts";
import { spreadSubnet } from "../../infra/instance.ts";
import { ArchitectureMismatchError, checkInstanceArchitecture, isArmInstanceType } from "../../infra/stacks.ts";
import { withTempDir } from "../helpers/cli.ts";
import { FIXTURE_SECRETS_DIR } from "./harness.ts";

const rolePolicy = (statement: Record<string, unknown>): DeclaredResource => ({
  urn: "urn:x",
  type: "aws:iam/rolePolicy:RolePolicy",
  name: "p",
  inputs: { policy: JSON.stringify({ Version: "2012-10-17", Statement: [statement] }) },
  refs: {},
});

const INSTANCE_INPUT = {
  bootstrapBucketArn: "arn:aws:s3:::boot",
  bootstrapPrefix: "bootstrap/CLAWDINATOR-9",
  ageIdentityParameterArn: "arn:aws:ssm:eu-west-1:1:parameter/clawdinators/CLAWDINATOR-9/age-identity",
  secretsKeyArn: "arn:aws:kms:eu-west-1:1:key/k",
  region: "eu-west-1",
  fileSystemArn: "arn:aws:elasticfilesystem:eu-west-1:1:file-system/fs-1",
  accessPointArn: "arn:aws:elasticfilesystem:eu-west-1:1:access-point/fsap-1",
  statusKey: "status/CLAWDINATOR-9.json",
  releaseKey: "release/current.json",
};

describe("policy documents", () => {
  it("vmimport reads only under the images prefix and scopes EC2 writes to the region's snapshots and images", () => {
    const document = vmImportPolicy({ imagesBucketArn: "arn:aws:s3:::img", imagesPrefix: "images", region: "eu-west-1" });
    const resources = document.Statement.flatMap((s) => [s.Resource].flat());
    assert.ok(resources.includes("arn:aws:s3:::img/images/*"));
    assert.ok(resources.includes("arn:aws:ec2:eu-west-1::snapshot/*"));
    assert.ok(!resources.includes("arn:aws:s3:::img/*"));
    const star = document.Statement.filter((s) => [s.Resource].flat().includes("*"));
    assert.deepEqual(star.map((s) => s.Action), ["ec2:Describe*"]);
  });

  it("an instance policy normalizes its prefix, conditions KMS on SSM and its parameter, EFS on its access point", () => {
    const document = instancePolicy(INSTANCE_INPUT);
    assert.deepEqual(instancePolicyScoped(document, { instance: "CLAWDINATOR-9", fleet: "clawdinators" }), []);
    assert.ok(JSON.stringify(document).includes("arn:aws:s3:::boot/bootstrap/CLAWDINATOR-9/*"));
    const kms = document.Statement.find((s) => s.Action === "kms:Decrypt");
    assert.equal(kms?.Condition?.StringEquals?.["kms:ViaService"], "ssm.eu-west-1.amazonaws.com");
  });
});

describe("invariant edges", () => {
  it("accepts * only for actions IAM cannot scope", () => {
    assert.deepEqual(policyDocumentsBounded(rolePolicy({ Effect: "Allow", Action: "ec2:DescribeImages", Resource: "*" })), []);
    assert.equal(policyDocumentsBounded(rolePolicy({ Effect: "Allow", Action: "s3:GetObject", Resource: "*" })).length, 1);
    assert.equal(policyDocumentsBounded(rolePolicy({ Effect: "Allow", Action: "*", Resource: "*" })).length, 1);
    assert.equal(policyDocumentsBounded(rolePolicy({ Effect: "Allow", Action: "iam:*", Resource: ["*"] })).length, 1);
    assert.deepEqual(policyDocumentsBounded(rolePolicy({ Effect: "Deny", Action: "*", Resource: "*" })), []);
    assert.equal(policyDocumentsBounded(rolePolicy({ Effect: "Maybe", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }))[0]?.rule, "policy-parses");
  });

  it("catches an instance policy that lists the whole bucket, skips a condition, or adds an action", () => {
    const document = instancePolicy(INSTANCE_INPUT);
    const loosened = structuredClone(document);
    delete loosened.Statement[0]?.Condition;
    assert.match(instancePolicyScoped(loosened, { instance: "CLAWDINATOR-9", fleet: "clawdinators" }).join(), /conditioned on s3:prefix/);
    const kmsOpen = structuredClone(document);
    delete kmsOpen.Statement[3]?.Condition;
    assert.match(instancePolicyScoped(kmsOpen, { instance: "CLAWDINATOR-9", fleet: "clawdinators" }).join(), /kms:Decrypt must be conditioned/);
    const efsOpen = structuredClone(document);
    delete efsOpen.Statement[4]?.Condition;
    assert.match(instancePolicyScoped(efsOpen, { instance: "CLAWDINATOR-9", fleet: "clawdinators" }).join(), /AccessPointArn/);
    const extra = structuredClone(document);
    extra.Statement.push({ Effect: "Allow", Action: "ssm:StartSession", Resource: "arn:aws:ec2:eu-west-1:1:instance/*" });
    assert.match(instancePolicyScoped(extra, { instance: "CLAWDINATOR-9", fleet: "clawdinators" }).join(), /ssm:StartSession is not one an instance needs/);
  });

  it("spreads instance numbers over subnets and says what to do when the fleet has none", () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => spreadSubnet(["a", "b", "c"], n)), ["a", "b", "c", "a"]);
    assert.throws(() => spreadSubnet([], 1), /pulumi up --stack fleet/);
  });
});

describe("instance type and image architecture", () => {
  it("tells Graviton types from x86 ones", () => {
    const arm = ["t4g.small", "m7g.large", "c7gn.xlarge", "m6gd.large", "a1.medium", "g5g.xlarge", "hpc7g.4xlarge"];
    const x86 = ["t3.small", "t3a.small", "m7i-flex.large", "g4dn.xlarge", "g5.xlarge", "c6i.large", "m5zn.large"];
    assert.deepEqual(arm.filter((t) => !isArmInstanceType(t)), []);
    assert.deepEqual(x86.filter(isArmInstanceType), []);
  });

  it("refuses a type that cannot boot the image, naming the key and a type that can", () => {
    assert.equal(checkInstanceArchitecture("t4g.small", "arm64"), "t4g.small");
    assert.throws(() => checkInstanceArchitecture("t3.small", "arm64"), (e: unknown) => e instanceof ArchitectureMismatchError && /instanceType t4g\.small/.test(e.message));
    assert.throws(() => checkInstanceArchitecture("m7g.large", "x86_64"), (e: unknown) => e instanceof ArchitectureMismatchError && /clawdinators:instanceType/.test(e.message));
  });
});

describe("the bundle plan", () => {
  const input = { instance: "CLAWDINATOR-4", secretsDir: FIXTURE_SECRETS_DIR, secrets: ["discord-token", "openai-api-key"], repos: [], agent: {} };
  const boot = { bucket: "boot", region: "eu-west-1", fileSystemId: "fs-1", accessPointId: "fsap-1", ageIdentityParameter: "/clawdinators/CLAWDINATOR-4/age-identity" };

  it("renders deterministically, manifest last, with each object's SHA-256", async () => {
    const plan = await planBundle(input);
    const a = plan.render(boot);
    const b = (await planBundle(input)).render(boot);
    assert.deepEqual(a.map((o) => [o.key, o.sha256]), b.map((o) => [o.key, o.sha256]));
    assert.deepEqual(plan.keys, a.map((o) => o.key));
    assert.equal(a.at(-1)?.key, "bootstrap/CLAWDINATOR-4/manifest.json");
    const manifest = JSON.parse(a.at(-1)?.body.toString("utf8") ?? "") as { objects: Array<{ key: string; sha256: string }> };
    assert.deepEqual(manifest.objects.map((o) => `bootstrap/CLAWDINATOR-4/${o.key}:${o.sha256}`), a.slice(0, -1).map((o) => `${o.key}:${o.sha256}`));
    assert.notEqual(plan.render({ ...boot, fileSystemId: "fs-2" }).at(-1)?.sha256, a.at(-1)?.sha256);
  });

  it("writes a config.json the agent's schema accepts, with file paths for known secrets only", () => {
    const config = agentConfig({ instance: "CLAWDINATOR-4", secrets: ["discord-token", "openai-api-key", "backup-key"], agent: { logLevel: "warn" } });
    const parsed = ConfigSchema.parse(config);
    assert.equal(parsed.openaiApiKeyFile, "/run/agenix/openai-api-key");
    assert.equal(parsed.logLevel, "warn");
    assert.ok(!JSON.stringify(config).includes("backup-key"));
  });

  it("accepts armored age files and refuses plain text, naming the file", async () => {
    await withTempDir(async (dir) => {
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, "discord-token.age"), "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n");
      await writeFile(path.join(dir, "openai-api-key.age"), "sk-plaintext-oops\n");
      await assert.rejects(
        planBundle({ ...input, secretsDir: dir }),
        (e: unknown) => e instanceof BundleError && e.code === "SECRET_NOT_ENCRYPTED" && e.file === path.join(dir, "openai-api-key.age") && !e.message.includes("sk-plaintext"),
      );
      await writeFile(path.join(dir, "openai-api-key.age"), "age-encryption.org/v1\n-> X25519 x\n--- y\n");
      assert.equal((await planBundle({ ...input, secretsDir: dir })).keys.length, 6); // 2 secrets, repos, config, boot, manifest
    });
  });
});
