// The whole Pulumi program under mocks: the fleet, then clawdinator-1 and clawdinator-2 reading the
// fleet's real (mocked) outputs through the StackReference. Every declared resource is walked
// through the security invariants, and the specific guarantees are asserted one by one.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ConfigSchema } from "../../agent/config/schema.ts";
import { checkAll, instancePolicyScoped, parsePolicyDocument, TYPES, type PolicyDocument } from "../../infra/invariants.ts";
import { RELEASE_KEY as AGENT_RELEASE_KEY, ReleaseSchema } from "../../agent/ops/self-update.ts";
import { ROOT } from "../helpers/cli.ts";
import { fleetConfig, instanceConfig, LAUNCH_TIME, only, ofType, REGION, runFailingStack, runStack, TEST_AGE_IDENTITY, type CapturedResource, type StackRun } from "./harness.ts";

const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
const AGE_KEY = "clawdinators:ageIdentity";

let fleet: StackRun;
const instances = new Map<string, StackRun>();

function policyOf(r: CapturedResource, property = "policy"): PolicyDocument {
  const document = parsePolicyDocument(r.inputs[property]);
  assert.notEqual(typeof document, "string", `${r.name}.${property}: ${String(document)}`);
  return document as PolicyDocument;
}

function allStacks(): Array<[string, StackRun]> {
  return [["fleet", fleet], ...instances.entries()];
}

describe("the Pulumi program under mocks", () => {
  before(async () => {
    fleet = await runStack({ stack: "fleet", config: fleetConfig() });
    for (const n of [1, 2]) {
      instances.set(`CLAWDINATOR-${n}`, await runStack({ stack: `clawdinator-${n}`, config: instanceConfig(), secretKeys: [AGE_KEY], fleetOutputs: fleet.outputs }));
    }
  });

  describe("the fleet stack under mocks", () => {
    it("declares the shared resources: two buckets, the image, EFS with a mount target per subnet, the vmimport role, groups, a KMS key", () => {
      assert.equal(ofType(fleet, TYPES.bucket).length, 2);
      assert.equal(ofType(fleet, DYNAMIC).length, 1);
      assert.equal(ofType(fleet, TYPES.fileSystem).length, 1);
      assert.deepEqual(
        ofType(fleet, "aws:efs/mountTarget:MountTarget").map((m) => m.inputs.subnetId),
        fleet.outputs.subnetIds,
      );
      assert.equal(ofType(fleet, "aws:efs/accessPoint:AccessPoint").length, 1);
      assert.equal(ofType(fleet, TYPES.securityGroup).length, 2);
      assert.equal(ofType(fleet, TYPES.kmsKey).length, 1);
      assert.equal(only(fleet, TYPES.role).inputs.name, "vmimport");
      assert.deepEqual([...fleet.invokes].sort(), ["aws:ec2/getSubnets:getSubnets", "aws:ec2/getVpc:getVpc"]);
    });

    it("hands the image resource the images bucket, the vmimport role and the configured flake", () => {
      const image = only(fleet, DYNAMIC);
      const imagesBucket = ofType(fleet, TYPES.bucket).find((b) => b.name === "imagesBucket");
      assert.equal(image.inputs.bucket, imagesBucket?.id);
      assert.equal(image.inputs.keyPrefix, "images/");
      assert.equal(image.inputs.vmImportRoleName, "vmimport");
      assert.equal(image.inputs.flake, "github:example/clawdinators");
      assert.equal(image.inputs.region, REGION);
      assert.equal(image.inputs.nixBinary, "nix");
      assert.equal(fleet.outputs.amiId, image.state.amiId);
    });

    it("trusts vmie.amazonaws.com with the vmimport external id and scopes it to the images prefix", () => {
      const role = only(fleet, TYPES.role);
      const trust = policyOf(role, "assumeRolePolicy").Statement[0];
      assert.deepEqual(trust?.Principal, { Service: "vmie.amazonaws.com" });
      assert.deepEqual(trust?.Condition, { StringEquals: { "sts:ExternalId": "vmimport" } });
      const access = policyOf(only(fleet, TYPES.rolePolicy));
      const objectResources = access.Statement.filter((s) => [s.Action].flat().includes("s3:GetObject")).flatMap((s) => [s.Resource].flat());
      assert.deepEqual(objectResources, [`arn:aws:s3:::${String(fleet.outputs.imagesBucket)}/images/*`]);
    });

    it("encrypts EFS, denies non-TLS access in its file system policy, and maps clients to the agent's uid", () => {
      assert.equal(only(fleet, TYPES.fileSystem).inputs.encrypted, true);
      const denies = policyOf(only(fleet, TYPES.fileSystemPolicy)).Statement.filter((s) => s.Effect === "Deny");
      assert.ok(denies.some((s) => s.Condition?.Bool?.["aws:SecureTransport"] === "false"));
      const accessPoint = only(fleet, "aws:efs/accessPoint:AccessPoint");
      assert.deepEqual(accessPoint.inputs.posixUser, { uid: 2000, gid: 2000 });
    });

    it("gives the EFS group one ingress rule, 2049 from the instances' group, and the instances' group none", () => {
      const [instancesGroup, efsGroup] = ["instances", "efs"].map((name) => ofType(fleet, TYPES.securityGroup).find((g) => g.name === name) as CapturedResource);
      const ingress = ofType(fleet, TYPES.ingressRule);
      assert.equal(ingress.length, 1);
      assert.equal(ingress[0]?.inputs.securityGroupId, efsGroup?.id);
      assert.equal(ingress[0]?.inputs.referencedSecurityGroupId, instancesGroup?.id);
      assert.deepEqual([ingress[0]?.inputs.fromPort, ingress[0]?.inputs.toPort], [2049, 2049]);
      assert.equal(instancesGroup?.inputs.ingress, undefined);
      const egress = ofType(fleet, TYPES.egressRule).map((r) => `${String(r.inputs.fromPort)}->${String(r.inputs.cidrIpv4 ?? r.inputs.referencedSecurityGroupId)}`);
      assert.deepEqual(egress.sort(), ["2049->" + String(efsGroup?.id), "443->0.0.0.0/0"].sort());
    });

    it("bounds the images bucket: raw images expire, old versions expire, uploads are aborted", () => {
      const lifecycle = ofType(fleet, TYPES.lifecycle).find((l) => l.name === "imagesLifecycle");
      const rules = lifecycle?.inputs.rules as Array<Record<string, Record<string, unknown>>>;
      const raw = rules.find((r) => r.id === ("expire-raw-images" as unknown));
      assert.deepEqual(raw?.filter, { prefix: "images/" });
      assert.equal(raw?.expiration?.days, 14);
      assert.ok(rules.some((r) => r.noncurrentVersionExpiration?.noncurrentDays === 7));
      assert.ok(rules.some((r) => r.abortIncompleteMultipartUpload?.daysAfterInitiation === 1));
    });
  });

  describe("the clawdinator-<n> stacks under mocks", () => {
    it("boot each instance from the image resource's amiId output", () => {
      const amiFromImageResource = only(fleet, DYNAMIC).state.amiId;
      assert.match(String(amiFromImageResource), /^ami-/);
      for (const [instance, run] of instances) {
        const server = only(run, TYPES.instance);
        assert.equal(server.name, instance);
        assert.equal(server.inputs.ami, amiFromImageResource);
        assert.equal(run.outputs.amiId, amiFromImageResource);
      }
    });

    it("replaces (never updates) an instance when its AMI changes, one at a time", () => {
      for (const [instance, run] of instances) {
        const options = run.options.get(`${TYPES.instance}::${instance}`);
        assert.ok(options?.replaceOnChanges.includes("ami"));
        assert.equal(options?.deleteBeforeReplace, true);
        assert.equal(only(run, TYPES.instance).inputs.userDataReplaceOnChange, true);
      }
    });

    it("a new flake gives a new AMI, and the instance follows it", async () => {
      const changed = await runStack({ stack: "fleet", config: fleetConfig({ "clawdinators:image": { flake: "github:example/clawdinators/v2", nixosConfiguration: "clawdinator" } }) });
      assert.notEqual(changed.outputs.amiId, fleet.outputs.amiId);
      const run = await runStack({ stack: "clawdinator-1", config: instanceConfig(), secretKeys: [AGE_KEY], fleetOutputs: changed.outputs });
      assert.equal(only(run, TYPES.instance).inputs.ami, changed.outputs.amiId);
    });

    it("requires IMDSv2 with hop limit 1, encrypts a gp3 root volume, sets no key pair, tags Name", () => {
      for (const [instance, run] of instances) {
        const inputs = only(run, TYPES.instance).inputs;
        assert.deepEqual(inputs.metadataOptions, { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" });
        const root = inputs.rootBlockDevice as Record<string, unknown>;
        assert.equal(root.volumeType, "gp3");
        assert.equal(root.encrypted, true);
        assert.equal(inputs.keyName, undefined);
        assert.equal((inputs.tags as Record<string, string>).Name, instance);
        assert.deepEqual(inputs.vpcSecurityGroupIds, [fleet.outputs.instanceSecurityGroupId]);
        assert.equal(inputs.instanceType, "t3.small"); // checked against the fleet's architecture output
      }
    });

    it("spreads instances over the fleet's subnets", () => {
      const subnets = [...instances.values()].map((run) => only(run, TYPES.instance).inputs.subnetId);
      assert.deepEqual(subnets, (fleet.outputs.subnetIds as string[]).slice(0, 2));
    });

    it("puts only the bootstrap location in user data", () => {
      for (const [instance, run] of instances) {
        const userData = JSON.parse(String(only(run, TYPES.instance).inputs.userData)) as unknown;
        assert.deepEqual(userData, { clawdinator: { bootstrap: `s3://${String(fleet.outputs.bootstrapBucket)}/bootstrap/${instance}/` } });
      }
    });

    it("scopes each instance role to its own prefix, parameter and access point, and to nothing of the other instance", () => {
      for (const [instance, run] of instances) {
        const document = policyOf(only(run, TYPES.rolePolicy));
        assert.deepEqual(instancePolicyScoped(document, { instance, fleet: "clawdinators" }), []);
        const resources = document.Statement.flatMap((s) => [s.Resource].flat()).sort();
        const parameterArn = `arn:aws:ssm:${REGION}:123456789012:parameter/clawdinators/${instance}/age-identity`;
        assert.deepEqual(
          resources,
          [
            String(fleet.outputs.bootstrapBucketArn),
            `${String(fleet.outputs.bootstrapBucketArn)}/bootstrap/${instance}/*`,
            parameterArn,
            String(fleet.outputs.secretsKeyArn),
            String(fleet.outputs.efsArn),
            `${String(fleet.outputs.bootstrapBucketArn)}/status/${instance}.json`,
            `${String(fleet.outputs.bootstrapBucketArn)}/release/current.json`,
          ].sort(),
        );
        const writes = document.Statement.filter((s) => [s.Action].flat().some((a) => a === "s3:PutObject"));
        assert.deepEqual(
          writes.flatMap((s) => [s.Resource].flat()),
          [`${String(fleet.outputs.bootstrapBucketArn)}/status/${instance}.json`],
          "the instance writes its own health report and nothing else",
        );
        const other = instance === "CLAWDINATOR-1" ? "CLAWDINATOR-2" : "CLAWDINATOR-1";
        assert.ok(!JSON.stringify(document).includes(other), `${instance}'s policy mentions ${other}`);
        const efs = document.Statement.find((s) => [s.Resource].flat().includes(String(fleet.outputs.efsArn)));
        assert.equal(efs?.Condition?.StringEquals?.["elasticfilesystem:AccessPointArn"], fleet.outputs.efsAccessPointArn);
        // The same check fails on the other instance's scope: it can fail.
        assert.notDeepEqual(instancePolicyScoped(document, { instance: other, fleet: "clawdinators" }), []);
        assert.notDeepEqual(instancePolicyScoped(document, { instance, fleet: "clawdinators-staging" }), [], "nor another fleet's");
      }
    });

    it("stores the age identity only in SSM, as a KMS SecureString marked secret, and nowhere else", () => {
      for (const [instance, run] of instances) {
        const parameter = only(run, TYPES.ssmParameter);
        assert.equal(parameter.inputs.type, "SecureString");
        assert.equal(parameter.inputs.keyId, fleet.outputs.secretsKeyArn);
        assert.equal(parameter.inputs.name, `/clawdinators/${instance}/age-identity`);
        const value = parameter.inputs.value as Record<string, unknown>;
        assert.equal(value["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", "the value is not marked secret");
        assert.equal(value.value, TEST_AGE_IDENTITY);
        const elsewhere = run.resources.filter((r) => r !== parameter && JSON.stringify(r.inputs).includes("AGE-SECRET-KEY"));
        assert.deepEqual(elsewhere.map((r) => r.name), []);
        assert.ok(!JSON.stringify(run.outputs).includes("AGE-SECRET-KEY"));
        const objects = ofType(run, "aws:s3/bucketObjectv2:BucketObjectv2").map((o) => Buffer.from(String(o.inputs.contentBase64), "base64").toString("latin1"));
        assert.ok(objects.every((body) => !body.includes("AGE-SECRET-KEY")));
      }
    });

    it("uploads the bundle under bootstrap/<instance>/ only, with a config.json the agent accepts and a manifest that matches", () => {
      for (const [instance, run] of instances) {
        const objects = ofType(run, "aws:s3/bucketObjectv2:BucketObjectv2");
        const prefix = `bootstrap/${instance}/`;
        assert.ok(objects.every((o) => String(o.inputs.key).startsWith(prefix) && o.inputs.bucket === fleet.outputs.bootstrapBucket));
        const body = (name: string): Buffer => Buffer.from(String(objects.find((o) => o.inputs.key === `${prefix}${name}`)?.inputs.contentBase64), "base64");
        const config = ConfigSchema.parse(JSON.parse(body("config.json").toString("utf8")));
        assert.equal(config.instance, instance);
        assert.equal(config.secretsFromEnv, false);
        assert.equal(config.discordTokenFile, "/run/agenix/discord-token");
        assert.deepEqual(config.githubApp, { appId: 123456, installationId: 7654321, privateKeyFile: "/run/agenix/github-app-key" });
        const boot = JSON.parse(body("boot.json").toString("utf8")) as Record<string, Record<string, unknown>>;
        assert.equal(boot.hiveMind?.fileSystemId, fleet.outputs.efsId);
        assert.equal(boot.hiveMind?.accessPointId, fleet.outputs.efsAccessPointId);
        const manifest = JSON.parse(body("manifest.json").toString("utf8")) as { objects: Array<{ key: string; sha256: string }> };
        assert.equal(manifest.objects.length, objects.length - 1);
        for (const entry of manifest.objects) {
          const tags = objects.find((o) => o.inputs.key === `${prefix}${entry.key}`)?.inputs.tags as Record<string, string>;
          assert.equal(tags["clawdinators:sha256"], entry.sha256, entry.key);
        }
        assert.ok(manifest.objects.some((o) => o.key === "secrets/discord-token.age"));
      }
    });

    it("gates each instance stack on its health: a local.Command triggered by the instance id and image, running wait-healthy", () => {
      for (const [instance, run] of instances) {
        const server = only(run, TYPES.instance);
        const gate = only(run, "command:local:Command");
        assert.equal(gate.name, `${instance}-healthGate`);
        assert.deepEqual(gate.inputs.triggers, [server.id, server.state.ami ?? server.inputs.ami]);
        assert.equal(gate.inputs.triggers && (gate.inputs.triggers as unknown[])[1], fleet.outputs.amiId);
        assert.equal(gate.inputs.dir, ROOT);
        assert.equal(
          gate.inputs.create,
          `node cli/clawdinator.js fleet wait-healthy ${instance} --boot-after ${LAUNCH_TIME} --instance-id ${server.id} --timeout 15m ` +
            `--bucket ${String(fleet.outputs.bootstrapBucket)} --region ${REGION}`,
        );
        assert.deepEqual(run.options.get(`command:local:Command::${instance}-healthGate`)?.dependsOn, 1, "runs after the instance exists");
        assert.ok(run.invokes.includes("aws:ec2/getInstance:getInstance"), "reads the instance's launch time");
      }
    });

    it("pins the in-place release only when the fleet sets one, in the shape hosts read, at the key their role may read", async () => {
      assert.equal(ofType(fleet, "aws:s3/bucketObjectv2:BucketObjectv2").length, 0, "no release pinned by default");
      const flake = `github:example/clawdinators/${"ab".repeat(20)}`;
      const pinned = await runStack({ stack: "fleet", config: fleetConfig({ "clawdinators:release": { flake } }) });
      const pin = only(pinned, "aws:s3/bucketObjectv2:BucketObjectv2");
      assert.equal(pin.inputs.key, AGENT_RELEASE_KEY);
      assert.equal(pin.inputs.bucket, pinned.outputs.bootstrapBucket);
      assert.deepEqual(ReleaseSchema.parse(JSON.parse(String(pin.inputs.content))), { version: 1, flake, nixosConfiguration: "clawdinator", systemPath: null });
      const unpinned = await runFailingStack({ stack: "fleet", config: fleetConfig({ "clawdinators:release": { flake: "github:example/clawdinators/main" } }) });
      assert.match(String(unpinned.error), /clawdinators:release\.flake: must pin a full 40-character git revision/);
    });

    it("can turn the gate off, and its timeout and CLI are configurable", async () => {
      const off = await runStack({ stack: "clawdinator-3", config: instanceConfig({ "clawdinators:healthGate": { enabled: false } }), secretKeys: [AGE_KEY], fleetOutputs: fleet.outputs });
      assert.equal(ofType(off, "command:local:Command").length, 0);
      const slow = await runStack({
        stack: "clawdinator-3",
        config: instanceConfig({ "clawdinators:healthGate": { timeoutMinutes: 40, cli: "npx clawdinator" } }),
        secretKeys: [AGE_KEY],
        fleetOutputs: fleet.outputs,
      });
      assert.match(String(only(slow, "command:local:Command").inputs.create), /^npx clawdinator fleet wait-healthy CLAWDINATOR-3 .* --timeout 40m /);
    });

    it("outputs what an operator needs: instance id, AMI, EFS, bootstrap prefix and next steps", () => {
      const run = instances.get("CLAWDINATOR-1") as StackRun;
      const server = only(run, TYPES.instance);
      assert.equal(run.outputs.instanceId, server.id);
      assert.equal(run.outputs.efsId, fleet.outputs.efsId);
      assert.equal(run.outputs.bootstrapPrefix, `s3://${String(fleet.outputs.bootstrapBucket)}/bootstrap/CLAWDINATOR-1/`);
      assert.match(String(run.outputs.nextSteps), /clawdinator bootstrap upload --instance CLAWDINATOR-1/);
      assert.match(String(run.outputs.nextSteps), new RegExp(server.id));
    });
  });

  describe("security invariants over every declared resource", () => {
    it("hold for the fleet and both instance stacks", () => {
      for (const [stack, run] of allStacks()) assert.deepEqual(checkAll(run.resources), [], stack);
    });

    it("every IAM and resource policy document parses and none allows a wildcard action on *", () => {
      const withPolicies = allStacks().flatMap(([, run]) => run.resources.filter((r) => r.inputs.policy !== undefined || r.inputs.assumeRolePolicy !== undefined));
      assert.ok(withPolicies.length >= 8, `found ${withPolicies.length}`);
      for (const r of withPolicies) {
        for (const property of ["policy", "assumeRolePolicy"].filter((p) => r.inputs[p] !== undefined)) {
          for (const s of policyOf(r, property).Statement.filter((st) => st.Effect === "Allow")) {
            const actions = [s.Action].flat();
            const resources = [s.Resource].flat();
            assert.ok(!(resources.includes("*") && actions.some((a) => a === "*" || /:\*$/.test(String(a)))), `${r.name}: ${JSON.stringify(s)}`);
          }
        }
      }
    });

    it("no rule anywhere opens port 22, and no plain output carries secret material", () => {
      const rules = allStacks().flatMap(([, run]) => run.resources.filter((r) => r.type === TYPES.ingressRule || r.type === TYPES.legacyRule));
      assert.ok(rules.every((r) => !(Number(r.inputs.fromPort) <= 22 && 22 <= Number(r.inputs.toPort))));
      for (const [stack, run] of allStacks()) {
        assert.ok(!/AGE-SECRET-KEY|PRIVATE KEY/.test(JSON.stringify(run.outputs)), stack);
      }
    });
  });
});
