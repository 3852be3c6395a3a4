// Two fleets in one AWS account (say prod and staging): the fleet's name, set on the fleet stack and
// read by its instances through the StackReference, gives each fleet its own KMS alias and SSM
// prefix, and an instance role of one fleet can read neither another instance's parameter nor the
// same instance number's parameter of another fleet.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { readStackConfig, StackConfigError } from "../../infra/config.ts";
import { checkAll, FLEET_TAG, instancePolicyScoped, parsePolicyDocument, TYPES, type PolicyDocument } from "../../infra/invariants.ts";
import { fleetNameFrom } from "../../infra/instance.ts";
import { parseStackName } from "../../infra/stacks.ts";
import { ACCOUNT, fleetConfig, instanceConfig, only, REGION, runStack, type CapturedResource, type StackRun } from "./harness.ts";

const AGE_KEY = "clawdinators:ageIdentity";
const STAGING = "clawdinators-staging";

let prod: StackRun;
let staging: StackRun;
let prodOne: StackRun;
let stagingOne: StackRun;

function policyOf(run: StackRun): PolicyDocument {
  const document = parsePolicyDocument(only(run, TYPES.rolePolicy).inputs.policy);
  assert.notEqual(typeof document, "string", String(document));
  return document as PolicyDocument;
}

const parameterArn = (fleet: string, instance: string): string => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/${fleet}/${instance}/age-identity`;

/** The stack with its instance role's policy text rewritten. */
function withPolicy(run: StackRun, change: (policy: string) => string): CapturedResource[] {
  return run.resources.map((r) => (r.type === TYPES.rolePolicy ? { ...r, inputs: { ...r.inputs, policy: change(String(r.inputs.policy)) } } : r));
}

/** The stack with its instance role's fleet tag changed (undefined removes it). */
function withRoleFleetTag(run: StackRun, fleet: string | undefined): CapturedResource[] {
  return run.resources.map((r) => {
    if (r.type !== TYPES.role) return r;
    const tags = { ...(r.inputs.tags as Record<string, string>) };
    if (fleet === undefined) delete tags[FLEET_TAG];
    else tags[FLEET_TAG] = fleet;
    return { ...r, inputs: { ...r.inputs, tags } };
  });
}

const scopeViolations = (resources: readonly CapturedResource[]): string[] => checkAll(resources).filter((v) => v.rule === "instance-role-scoped").map((v) => v.message);

describe("fleet names under mocks", () => {
  before(async () => {
    // The same account and region (the harness mocks one), two fleet stacks in two Pulumi orgs or backends.
    prod = await runStack({ stack: "fleet", config: fleetConfig() });
    staging = await runStack({ stack: "fleet", config: fleetConfig({ "clawdinators:fleetName": STAGING }) });
    prodOne = await runStack({ stack: "clawdinator-1", config: instanceConfig(), secretKeys: [AGE_KEY], fleetOutputs: prod.outputs });
    stagingOne = await runStack({ stack: "clawdinator-1", config: instanceConfig(), secretKeys: [AGE_KEY], fleetOutputs: staging.outputs });
  });

  describe("the fleet's name", () => {
    it("defaults to clawdinators, so a single fleet keeps the names it had (alias/clawdinators-secrets, /clawdinators/<instance>/)", () => {
      assert.equal(prod.outputs.fleetName, "clawdinators");
      assert.equal(only(prod, "aws:kms/alias:Alias").inputs.name, "alias/clawdinators-secrets");
      assert.equal(only(prodOne, TYPES.ssmParameter).inputs.name, "/clawdinators/CLAWDINATOR-1/age-identity");
    });

    it("is read from the fleet stack's clawdinators:fleetName and exported for its instances", () => {
      const config = readStackConfig("fleet", parseStackName("fleet"), fleetConfig({ "clawdinators:fleetName": STAGING }), () => true);
      assert.equal(config.kind === "fleet" ? config.fleetName : undefined, STAGING);
      assert.equal(staging.outputs.fleetName, STAGING);
      assert.equal(stagingOne.outputs.fleetName, STAGING);
    });

    const refused: Array<[value: string, why: string]> = [
      ["Prod", "upper case"],
      ["aws-prod", "AWS reserves aws for KMS aliases and SSM parameters"],
      ["SSM", "reserved, in any case"],
      ["ssm-fleet", "AWS reserves ssm for SSM parameters"],
      ["prod/eu", "a slash would nest one fleet's parameters under another's"],
      ["prod*", "a wildcard in an IAM resource"],
      ["-prod", "a leading dash"],
      ["prod-", "a trailing dash"],
      ["p".repeat(33), "too long"],
      ["", "empty"],
    ];
    for (const [value, why] of refused) {
      it(`refuses ${JSON.stringify(value)} (${why}), naming the key and the fix`, () => {
        let error: unknown;
        try {
          readStackConfig("fleet", parseStackName("fleet"), fleetConfig({ "clawdinators:fleetName": value }), () => true);
        } catch (thrown) {
          error = thrown;
        }
        assert.ok(error instanceof StackConfigError, `accepted ${JSON.stringify(value)}`);
        const problem = error.problems.find((p) => p.key === "clawdinators:fleetName");
        assert.ok(problem, error.message);
        assert.match(problem.problem, /lowercase letters, digits and dashes/);
        assert.equal(problem.fix, "pulumi config set fleetName clawdinators-staging");
      });
    }

    it("belongs to the fleet stack: an instance stack that sets it is told so", () => {
      let error: unknown;
      try {
        readStackConfig("clawdinator-1", parseStackName("clawdinator-1"), instanceConfig({ "clawdinators:fleetName": STAGING }), () => true);
      } catch (thrown) {
        error = thrown;
      }
      assert.ok(error instanceof StackConfigError);
      const problem = error.problems.find((p) => p.key === "clawdinators:fleetName");
      assert.match(problem?.problem ?? "", /fleet stack/);
      assert.equal(problem?.fix, "pulumi config rm fleetName (and set it on the fleet stack: pulumi config set fleetName clawdinators-staging --stack fleet)");
    });

    it("is read from the fleet stack's outputs; a fleet deployed before the output existed had the default's names, so it keeps them", async () => {
      const { fleetName: _dropped, ...older } = prod.outputs;
      const run = await runStack({ stack: "clawdinator-1", config: instanceConfig(), secretKeys: [AGE_KEY], fleetOutputs: older });
      assert.equal(only(run, TYPES.ssmParameter).inputs.name, "/clawdinators/CLAWDINATOR-1/age-identity");
      assert.deepEqual(checkAll(run.resources), []);
      // Checked inside an apply of the fleet reference (pulumi up fails with this message); the check itself, directly:
      assert.equal(fleetNameFrom(STAGING, "fleet"), STAGING);
      assert.equal(fleetNameFrom(undefined, "fleet"), "clawdinators");
      assert.throws(() => fleetNameFrom("*", "acme/clawdinators/fleet"), /the fleet stack acme\/clawdinators\/fleet exports fleetName "\*", which is not a fleet name; fix clawdinators:fleetName there/);
      assert.throws(() => fleetNameFrom(7, "fleet"), /exports fleetName 7/);
    });
  });

  describe("two fleets in one account", () => {
    it("get distinct KMS aliases and SSM parameter names, and each parameter is encrypted with its own fleet's key", () => {
      assert.deepEqual(
        [prod, staging].map((run) => only(run, "aws:kms/alias:Alias").inputs.name),
        ["alias/clawdinators-secrets", "alias/clawdinators-staging-secrets"],
      );
      assert.deepEqual(
        [prodOne, stagingOne].map((run) => only(run, TYPES.ssmParameter).inputs.name),
        ["/clawdinators/CLAWDINATOR-1/age-identity", "/clawdinators-staging/CLAWDINATOR-1/age-identity"],
      );
      assert.equal(only(stagingOne, TYPES.ssmParameter).inputs.keyId, staging.outputs.secretsKeyArn);
      assert.equal(stagingOne.outputs.ageIdentityParameter, "/clawdinators-staging/CLAWDINATOR-1/age-identity");
    });

    it("scope each instance role to exactly its own fleet's parameter ARN and encryption context, tagged with its fleet", () => {
      for (const [fleet, run] of [["clawdinators", prodOne], [STAGING, stagingOne]] as const) {
        const document = policyOf(run);
        const read = document.Statement.find((s) => s.Action === "ssm:GetParameter");
        assert.equal(read?.Resource, parameterArn(fleet, "CLAWDINATOR-1"));
        const decrypt = document.Statement.find((s) => s.Action === "kms:Decrypt");
        assert.equal(decrypt?.Condition?.StringEquals?.["kms:EncryptionContext:PARAMETER_ARN"], parameterArn(fleet, "CLAWDINATOR-1"));
        assert.equal((only(run, TYPES.role).inputs.tags as Record<string, string>)[FLEET_TAG], fleet);
        assert.deepEqual(instancePolicyScoped(document, { instance: "CLAWDINATOR-1", fleet }), []);
        // The same check fails for the other fleet's scope, so it can fail.
        const other = fleet === STAGING ? "clawdinators" : STAGING;
        assert.notDeepEqual(instancePolicyScoped(document, { instance: "CLAWDINATOR-1", fleet: other }), []);
        assert.deepEqual(checkAll(run.resources), []);
      }
    });

    it("the policy check fails on a staging instance role that reads prod's parameter of the same instance number", () => {
      const crossFleet = withPolicy(stagingOne, (policy) => policy.replaceAll(`parameter/${STAGING}/CLAWDINATOR-1/`, "parameter/clawdinators/CLAWDINATOR-1/"));
      const problems = scopeViolations(crossFleet);
      assert.ok(problems.some((m) => /ReadOwnAgeIdentity: .*parameter\/clawdinators\/CLAWDINATOR-1\/age-identity is not this instance's parameter/.test(m)), JSON.stringify(problems));
      assert.ok(problems.some((m) => /DecryptOwnAgeIdentityViaSsm: kms:Decrypt must be conditioned/.test(m)), JSON.stringify(problems));
    });

    it("the policy check fails on a prod instance role that reads staging's parameter, or another prod instance's", () => {
      const toStaging = withPolicy(prodOne, (policy) => policy.replaceAll("parameter/clawdinators/CLAWDINATOR-1/", `parameter/${STAGING}/CLAWDINATOR-1/`));
      assert.notDeepEqual(scopeViolations(toStaging), []);
      const toTwo = withPolicy(prodOne, (policy) => policy.replaceAll("parameter/clawdinators/CLAWDINATOR-1/", "parameter/clawdinators/CLAWDINATOR-2/"));
      assert.notDeepEqual(scopeViolations(toTwo), []);
    });

    it("the policy check fails on a role re-tagged into the other fleet, untagged, or tagged with a wildcard", () => {
      assert.notDeepEqual(scopeViolations(withRoleFleetTag(prodOne, STAGING)), []);
      assert.match(scopeViolations(withRoleFleetTag(prodOne, undefined)).join("\n"), new RegExp(`needs the tag ${FLEET_TAG}`));
      assert.match(scopeViolations(withRoleFleetTag(prodOne, "*")).join("\n"), /not a fleet name/);
    });

    it("the policy check fails on a parameter ARN with a wildcard, which would reach every fleet's or every parameter under the prefix", () => {
      const wildcards: Array<[from: string, to: string]> = [
        ["CLAWDINATOR-1/age-identity", "CLAWDINATOR-1/*"],
        ["parameter/clawdinators/", "parameter/*/"],
        [`:${ACCOUNT}:parameter`, ":*:parameter"],
      ];
      for (const [from, to] of wildcards) {
        const problems = scopeViolations(withPolicy(prodOne, (policy) => policy.replaceAll(from, to)));
        assert.ok(problems.some((m) => m.startsWith("ReadOwnAgeIdentity: ")), `${from} -> ${to}: ${JSON.stringify(problems)}`);
      }
    });

    it("put the fleet's parameter name into each instance's boot.json, where the boot service reads it", () => {
      for (const [fleet, run] of [["clawdinators", prodOne], [STAGING, stagingOne]] as const) {
        const bootObject = run.resources.find((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && String(r.inputs.key).endsWith("/boot.json"));
        const boot = JSON.parse(Buffer.from(String(bootObject?.inputs.contentBase64), "base64").toString("utf8")) as Record<string, unknown>;
        assert.equal(boot.ageIdentityParameter, `/${fleet}/CLAWDINATOR-1/age-identity`);
      }
    });
  });
});
