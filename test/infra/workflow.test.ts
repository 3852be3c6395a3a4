// The users' CI workflow, parsed as YAML (js-yaml): previews every
// stack on pull requests with the diff posted and the policy pack on, deploys on merge to main
// (fleet before instances), and reaches AWS only through OIDC.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { ROOT } from "../helpers/cli.ts";
import yaml from "js-yaml";

const FILE = path.join(ROOT, ".github/workflows/pulumi.yml");
const text = readFileSync(FILE, "utf8");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { matrix?: { stack?: string[] }; "max-parallel"?: number };
  steps: Step[];
}
const workflow = yaml.load(text) as {
  on: Record<string, { branches?: string[] } & Array<{ cron?: string }>>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
};

const pulumiStep = (job: Job): Step | undefined => job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
const stacksOf = (job: Job): string[] => job.strategy?.matrix?.stack ?? [String(pulumiStep(job)?.with?.["stack-name"])];
const stackFiles = readdirSync(ROOT)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined)
  .sort();

describe(".github/workflows/pulumi.yml", () => {
  it("runs on pull requests to main and on pushes to main, read-only by default", () => {
    assert.deepEqual(workflow.on.pull_request?.branches, ["main"]);
    assert.deepEqual(workflow.on.push?.branches, ["main"]);
    assert.deepEqual(workflow.permissions, { contents: "read" });
  });

  it("previews every stack that has a stack file, posts the diff on the PR, and enforces the policy pack", () => {
    const preview = workflow.jobs.preview as Job;
    assert.match(String(preview.if), /pull_request/);
    assert.deepEqual([...stacksOf(preview)].sort(), stackFiles);
    const step = pulumiStep(preview);
    assert.equal(step?.with?.command, "preview");
    assert.equal(step?.with?.["comment-on-pr"], true);
    assert.equal(preview.permissions?.["pull-requests"], "write");
    assert.equal(step?.with?.policyPacks, "infra/policy");
    assert.ok(existsSync(path.join(ROOT, "infra/policy/PulumiPolicy.yaml")));
  });

  it("deploys on merge: the fleet first, then every instance stack, one at a time", () => {
    const fleet = workflow.jobs["up-fleet"] as Job;
    const instances = workflow.jobs["up-instances"] as Job;
    assert.match(String(fleet.if), /push.*refs\/heads\/main/);
    for (const job of [fleet, instances]) {
      assert.equal(pulumiStep(job)?.with?.command, "up");
      assert.equal(pulumiStep(job)?.with?.policyPacks, "infra/policy");
    }
    assert.deepEqual(stacksOf(fleet), ["fleet"]);
    assert.equal(instances.needs, "up-fleet"); // so it is gated by the fleet's push-to-main condition
    assert.equal(instances.strategy?.["max-parallel"], 1);
    assert.deepEqual([...stacksOf(fleet), ...stacksOf(instances)].sort(), stackFiles);
  });

  it("reaches AWS through OIDC only: id-token write, a role to assume before Pulumi runs, no access keys", () => {
    for (const [name, job] of Object.entries(workflow.jobs).filter(([, j]) => j.steps.some((s) => s.uses?.startsWith("pulumi/actions@")))) {
      assert.equal(job.permissions?.["id-token"], "write", name);
      const credentials = job.steps.findIndex((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
      const pulumi = job.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
      assert.ok(credentials >= 0 && credentials < pulumi, `${name}: credentials must come before pulumi`);
      const with_ = job.steps[credentials]?.with ?? {};
      // Only `up` (push to main, production environment) holds the deploy role; previews and the drift check read.
      const role = name.startsWith("up-") ? "AWS_DEPLOY_ROLE_ARN" : "AWS_PREVIEW_ROLE_ARN";
      assert.equal(String(with_["role-to-assume"]), `\${{ vars.${role} }}`, name);
      assert.equal(with_["aws-access-key-id"], undefined);
      assert.equal(with_["aws-secret-access-key"], undefined);
    }
    assert.doesNotMatch(text, /AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id/);
  });

  it("runs npm test on every pull request, with no cloud access", () => {
    const test = workflow.jobs.test as Job;
    assert.match(String(test.if), /pull_request/);
    assert.ok(test.steps.some((s) => s.run === "npm test"));
    assert.equal(test.permissions?.["id-token"], undefined);
  });

  it("pins every action by a full commit SHA, with the verified tag beside it", () => {
    const uses = [...text.matchAll(/uses:\s*(\S+)(.*)$/gm)];
    assert.ok(uses.length > 0);
    for (const [, action = "", comment = ""] of uses) {
      assert.match(action, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, action);
      assert.match(comment, /# v\d+\.\d+\.\d+/, `${action} names its tag`);
    }
  });

  it("checks for drift on a schedule, read-only: refresh --preview-only fails the job when anything drifted", () => {
    assert.ok(Array.isArray(workflow.on.schedule) && workflow.on.schedule.some((s) => typeof s.cron === "string"));
    const drift = workflow.jobs.drift as Job;
    assert.match(String(drift.if), /schedule/);
    assert.deepEqual([...stacksOf({ ...drift, steps: [] })].sort(), stackFiles);
    const script = drift.steps.map((s) => s.run ?? "").join("\n");
    assert.match(script, /pulumi refresh --preview-only --expect-no-changes/);
    assert.doesNotMatch(script, /\$\{\{/, "no expression is pasted into the script (it goes through env)");
  });
});
