// Stack configuration: every required key missing, and every kind of wrong value, fails with the
// key's full name and a `pulumi config set` line with an example; nothing is declared before that.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { BundleError } from "../../infra/bundle.ts";
import { NetworkLookupError } from "../../infra/network.ts";
import { CONFIG_EXAMPLES, readStackConfig, StackConfigError, type RawConfig } from "../../infra/config.ts";
import { parseStackName, qualifiedStackName, StackNameError } from "../../infra/stacks.ts";
import { ROOT, withTempDir } from "../helpers/cli.ts";
import { fleetConfig, instanceConfig, runFailingStack, runStack, TEST_AGE_IDENTITY, toRaw } from "./harness.ts";
import yaml from "js-yaml";


const AGE_KEY = "clawdinators:ageIdentity";
const allSecret = (): boolean => true;

function problemsOf(stack: string, raw: RawConfig, isSecret: (key: string) => boolean = allSecret): StackConfigError {
  try {
    readStackConfig(stack, parseStackName(stack), raw, isSecret);
  } catch (error) {
    assert.ok(error instanceof StackConfigError, String(error));
    return error;
  }
  assert.fail(`stack ${stack} accepted ${JSON.stringify(raw)}`);
}

function without(raw: Record<string, string>, key: string): Record<string, string> {
  const copy = { ...raw };
  delete copy[key];
  return copy;
}

function withPath(raw: Record<string, string>, topKey: string, path_: string[], value: unknown): Record<string, string> {
  const document = (raw[topKey] ? JSON.parse(raw[topKey]) : {}) as Record<string, unknown>;
  let cursor: Record<string, unknown> = document;
  for (const part of path_.slice(0, -1)) cursor = (cursor[part] ??= {}) as Record<string, unknown>;
  cursor[path_[path_.length - 1] as string] = value;
  return { ...raw, [topKey]: JSON.stringify(document) };
}

describe("stack names", () => {
  it("pick the fleet or an instance program, and refuse anything else with the names that work", () => {
    assert.deepEqual(parseStackName("fleet"), { kind: "fleet" });
    assert.deepEqual(parseStackName("clawdinator-12"), { kind: "instance", instance: "CLAWDINATOR-12", index: 12 });
    for (const bad of ["dev", "clawdinator-0", "clawdinator-01", "CLAWDINATOR-1", "clawdinator-10000"]) {
      assert.throws(() => parseStackName(bad), (e: unknown) => e instanceof StackNameError && e.stackName === bad && /clawdinator-<n>/.test(e.message));
    }
    assert.equal(qualifiedStackName("fleet", "acme", "clawdinators"), "acme/clawdinators/fleet");
    assert.equal(qualifiedStackName("acme/fleet", "x", "clawdinators"), "acme/clawdinators/fleet");
    assert.equal(qualifiedStackName("a/b/fleet", "x", "y"), "a/b/fleet");
  });
});

describe("missing required keys", () => {
  const cases: Array<[stack: string, raw: Record<string, string>, key: string]> = [
    ["fleet", without(fleetConfig(), "aws:region"), "aws:region"],
    ["fleet", without(fleetConfig(), "clawdinators:image"), "clawdinators:image"],
    ["fleet", fleetConfig({ "clawdinators:image": { nixosConfiguration: "clawdinator" } }), "clawdinators:image.flake"],
    ["fleet", fleetConfig({ "clawdinators:image": { flake: "github:x/y" } }), "clawdinators:image.nixosConfiguration"],
    ["fleet", fleetConfig({ "clawdinators:network": { subnetIds: ["subnet-0123456789abcdef0"] } }), "clawdinators:network.vpcId"],
    ["clawdinator-1", without(instanceConfig(), "aws:region"), "aws:region"],
    ["clawdinator-1", without(instanceConfig(), AGE_KEY), AGE_KEY],
    ["clawdinator-1", instanceConfig({ "clawdinators:repos": [{ name: "x" }] }), "clawdinators:repos[0].url"],
  ];
  for (const [stack, raw, key] of cases) {
    it(`${stack} without ${key}: the error names it and shows how to set it`, () => {
      const error = problemsOf(stack, raw);
      const problem = error.problems.find((p) => p.key === key);
      assert.ok(problem, `no problem for ${key} in ${error.message}`);
      assert.match(problem.problem, /required/);
      assert.match(problem.fix, /^pulumi config set /);
      assert.ok(!problem.fix.includes("<value>"), `no example for ${key}: ${problem.fix}`);
      assert.ok(error.message.includes(key));
    });
  }
});

describe("wrong values", () => {
  const cases: Array<[stack: string, raw: Record<string, string>, key: string]> = [
    ["fleet", fleetConfig({ "aws:region": "Frankfurt" }), "aws:region"],
    ["fleet", withPath(fleetConfig(), "clawdinators:image", ["architecture"], "sparc"), "clawdinators:image.architecture"],
    ["fleet", withPath(fleetConfig(), "clawdinators:image", ["importMethod"], "ftp"), "clawdinators:image.importMethod"],
    ["fleet", withPath(fleetConfig(), "clawdinators:image", ["keep"], -1), "clawdinators:image.keep"],
    ["fleet", withPath(fleetConfig(), "clawdinators:image", ["imagePath"], "./nixos.img"), "clawdinators:image.imagePath"],
    ["fleet", fleetConfig({ "clawdinators:network": { vpcId: "default", subnetIds: ["subnet-0123456789abcdef0"] } }), "clawdinators:network.vpcId"],
    ["fleet", fleetConfig({ "clawdinators:efs": { uid: 0 } }), "clawdinators:efs.uid"],
    ["fleet", fleetConfig({ "clawdinators:tags": { "aws:owner": "me" } }), "clawdinators:tags.aws:owner"],
    ["fleet", fleetConfig({ "clawdinators:image": "{oops" }), "clawdinators:image"],
    ["fleet", fleetConfig({ "clawdinators:instanceType": "t3.small" }), "clawdinators:instanceType"],
    ["clawdinator-1", instanceConfig({ "clawdinators:instanceType": "big" }), "clawdinators:instanceType"],
    ["clawdinator-1", instanceConfig({ "clawdinators:rootVolumeGiB": "lots" }), "clawdinators:rootVolumeGiB"],
    ["clawdinator-1", instanceConfig({ "clawdinators:rootVolumeGiB": "4" }), "clawdinators:rootVolumeGiB"],
    ["clawdinator-1", instanceConfig({ "clawdinators:subnetId": "default" }), "clawdinators:subnetId"],
    ["clawdinator-1", instanceConfig({ "clawdinators:fleetStack": "a/b/c/d" }), "clawdinators:fleetStack"],
    ["clawdinator-1", instanceConfig({ "clawdinators:secrets": ["Discord Token"] }), "clawdinators:secrets[0]"],
    ["clawdinator-1", instanceConfig({ "clawdinators:secrets": ["discord-token"] }), "clawdinators:secrets"],
    ["clawdinator-1", instanceConfig({ "clawdinators:repos": [{ name: "x", url: "http://example.com/x.git" }] }), "clawdinators:repos[0].url"],
    ["clawdinator-1", instanceConfig({ "clawdinators:repos": [{ name: "x", url: "https://a/x.git" }, { name: "x", url: "https://a/y.git" }] }), "clawdinators:repos[1].name"],
    ["clawdinator-1", instanceConfig({ "clawdinators:agent": { logLevel: "loud" } }), "clawdinators:agent.logLevel"],
    ["clawdinator-1", instanceConfig({ "clawdinators:agent": { discordToken: "x" } }), "clawdinators:agent.discordToken"],
    ["clawdinator-1", instanceConfig({ "clawdinators:instanceTyp": "t3.small" }), "clawdinators:instanceTyp"],
  ];
  for (const [stack, raw, key] of cases) {
    it(`${stack}: a bad ${key} is named`, () => {
      const error = problemsOf(stack, raw);
      assert.ok(
        error.problems.some((p) => p.key === key && p.fix.startsWith("pulumi config ")),
        `expected a problem for ${key}, got: ${error.message}`,
      );
    });
  }

  it("a bad list element's fix sets that element to an element's example (quoted against the shell's globbing)", () => {
    const error = problemsOf("clawdinator-1", instanceConfig({ "clawdinators:secrets": ["Discord Token"] }));
    assert.equal(error.problems.find((p) => p.key === "clawdinators:secrets[0]")?.fix, "pulumi config set --path 'secrets[0]' discord-token");
  });

  it("an age identity that is not one is refused without echoing the value", () => {
    const leaked = "ghp_this-looks-like-a-token-not-an-age-identity";
    const error = problemsOf("clawdinator-1", instanceConfig({ [AGE_KEY]: leaked }));
    assert.ok(error.problems.some((p) => p.key === AGE_KEY && /AGE-SECRET-KEY-1/.test(p.problem)));
    assert.ok(!error.message.includes(leaked));
  });

  it("an age identity stored in plain text in the stack file is refused, with the --secret fix", () => {
    const error = problemsOf("clawdinator-1", instanceConfig(), (key) => key !== AGE_KEY);
    const problem = error.problems.find((p) => p.key === AGE_KEY);
    assert.match(problem?.problem ?? "", /plain text/);
    assert.match(problem?.fix ?? "", /pulumi config set --secret ageIdentity/);
    assert.ok(!error.message.includes(TEST_AGE_IDENTITY));
  });

  it("an age-keygen file with its comment lines is accepted", () => {
    const file = `# created: 2026-11-24T00:00:00Z\n# public key: age1example\n${TEST_AGE_IDENTITY}\n`;
    const config = readStackConfig("clawdinator-1", parseStackName("clawdinator-1"), instanceConfig({ [AGE_KEY]: file }), allSecret);
    assert.equal(config.kind, "instance");
    assert.equal(config.kind === "instance" ? config.ageIdentity : undefined, TEST_AGE_IDENTITY, "the program gets the key line alone");
  });

  it("a value that is not one age identity is refused without echoing it", () => {
    const notAKey = "AGE-SECRET-KEY-1-not-really";
    const error = problemsOf("clawdinator-1", instanceConfig({ [AGE_KEY]: notAKey }));
    assert.match(error.problems.find((p) => p.key === AGE_KEY)?.problem ?? "", /must be an age identity/);
    assert.ok(!error.message.includes(notAKey));
  });
});

describe("documented examples", () => {
  // Each example value, set on its own key, must pass validation: a wrong example would teach a wrong fix.
  const unquote = (example: string): unknown => {
    const text = example.replace(/^'(.*)'$/s, "$1");
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  for (const [key, example] of Object.entries(CONFIG_EXAMPLES)) {
    if (key === "ageIdentity") continue; // a shell command substitution, not a value
    it(`${key} = ${example} is valid`, () => {
      // `list[]` is the example of one element of a list.
      const element = key.endsWith("[]");
      const [top = "", ...rest] = key.replace(/\[\]$/, "").split(".");
      const instanceKeys = ["fleetStack", "instanceType", "rootVolumeGiB", "subnetId", "healthGate", "secretsDir", "secrets", "repos", "agent"];
      const stack = instanceKeys.includes(top) ? "clawdinator-1" : "fleet";
      const base =
        stack === "fleet"
          ? fleetConfig(top === "network" ? { "clawdinators:network": unquote(CONFIG_EXAMPLES.network ?? "") } : {})
          : instanceConfig({ "clawdinators:agent": {} });
      const fullKey = top === "aws:region" ? top : `clawdinators:${top}`;
      let raw: Record<string, string>;
      if (element) raw = { ...base, [fullKey]: JSON.stringify([unquote(example)]) };
      else if (rest.length === 0) raw = { ...base, [fullKey]: typeof unquote(example) === "string" ? String(unquote(example)) : JSON.stringify(unquote(example)) };
      else if (top === "repos") raw = { ...base, [fullKey]: JSON.stringify([{ name: "x", url: "https://github.com/x/y.git", [rest[0] as string]: unquote(example) }]) };
      else raw = withPath(base, fullKey, rest, unquote(example));
      if (key === "image.imagePath") raw = { ...raw, [fullKey]: JSON.stringify({ imagePath: unquote(example) }) };
      if (key === "agent.githubApp.appId" || key === "agent.githubApp.installationId") {
        raw = withPath(raw, fullKey, ["githubApp"], { appId: 1, installationId: 2, [rest[1] as string]: unquote(example) });
      }
      readStackConfig(stack, parseStackName(stack), raw, allSecret);
    });
  }
});

describe("example stack files", () => {
  const load = (file: string): Record<string, string> => {
    const document = yaml.load(readFileSync(path.join(ROOT, file), "utf8")) as { config: Record<string, unknown> };
    return toRaw(document.config);
  };
  it("Pulumi.fleet.yaml validates", () => {
    const config = readStackConfig("fleet", parseStackName("fleet"), load("Pulumi.fleet.yaml"), allSecret);
    assert.equal(config.kind, "fleet");
  });
  for (const n of [1, 2]) {
    it(`Pulumi.clawdinator-${n}.yaml validates once the age identity is set as a secret, and keeps no identity itself`, () => {
      const raw = load(`Pulumi.clawdinator-${n}.yaml`);
      assert.equal(raw[AGE_KEY], undefined);
      const config = readStackConfig(`clawdinator-${n}`, parseStackName(`clawdinator-${n}`), { ...raw, [AGE_KEY]: TEST_AGE_IDENTITY }, allSecret);
      assert.equal(config.kind === "instance" && config.instance, `CLAWDINATOR-${n}`);
    });
  }
});

describe("failing before anything is declared", () => {
  it("a bad config declares no resource", async () => {
    const run = await runFailingStack({ stack: "clawdinator-1", config: without(instanceConfig(), AGE_KEY), secretKeys: [AGE_KEY] });
    assert.ok(run.error instanceof StackConfigError);
    assert.deepEqual(run.resources.map((r) => r.type), []);
  });

  it("a missing secret file names the file and the fix, and declares no resource", async () => {
    await withTempDir(async (dir) => {
      const run = await runFailingStack({ stack: "clawdinator-2", config: instanceConfig({ "clawdinators:secretsDir": dir }), secretKeys: [AGE_KEY] });
      assert.ok(run.error instanceof BundleError);
      assert.equal(run.error.code, "SECRET_MISSING");
      assert.equal(run.error.file, path.join(dir, "discord-token.age"));
      assert.match(run.error.message, /agenix -e discord-token\.age/);
      assert.match(run.error.message, /clawdinators:secrets/);
      assert.deepEqual(run.resources.map((r) => r.type), []);
    });
  });

  it("a region without a default VPC says which keys to set, and declares no resource", async () => {
    const run = await runFailingStack({ stack: "fleet", config: fleetConfig(), failingInvokes: ["aws:ec2/getVpc:getVpc"] });
    assert.ok(run.error instanceof NetworkLookupError);
    assert.match(run.error.message, /network\.vpcId/);
    assert.deepEqual(run.resources.map((r) => r.type), []);
  });

  it("a configured network is used as given, without lookups", async () => {
    const network = { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0"] };
    const run = await runStack({ stack: "fleet", config: fleetConfig({ "clawdinators:network": network }) });
    assert.deepEqual(run.invokes, []);
    assert.deepEqual(run.outputs.subnetIds, network.subnetIds);
  });

  it("a stack name that names no program declares no resource", async () => {
    const run = await runFailingStack({ stack: "dev", config: fleetConfig() });
    assert.ok(run.error instanceof StackNameError);
    assert.deepEqual(run.resources.map((r) => r.type), []);
  });
});
