// `clawdinator fleet spawn <n>` through the CLI's command line (in this process, with the
// environment it is given) and the real Automation API, with a stand-in `pulumi` first on that
// environment's PATH that records every call: the stack file written from the fleet's defaults, the
// identity stored as a secret, `pulumi up` with progress on the terminal; and every refusal (bad
// number, existing stack, missing fleet) writing no file.
import assert from "node:assert/strict";
import { cp, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, it } from "node:test";
import yaml from "js-yaml";
import { runCliInProcess, withTempDir, type Finished } from "../helpers/cli.ts";
import { FIXTURE_SECRETS_DIR, TEST_AGE_IDENTITY } from "../infra/fixture-secrets.ts";
import { startPulumiStandIn, type PulumiCall as Call, type PulumiStandIn } from "./fixtures/pulumi-standin.ts";

interface Project {
  readonly dir: string;
  spawn(args: readonly string[]): Promise<Finished>;
  calls(): Promise<Call[]>;
  stackFiles(): Promise<string[]>;
}

/** Stand-ins of the running test, stopped after it. */
const standIns: PulumiStandIn[] = [];

async function project(dir: string, options: { stacks?: string[]; fleetOutputs?: Record<string, unknown>; fleetFile?: boolean } = {}): Promise<Project> {
  const work = path.join(dir, "project");
  await mkdir(work);
  const pulumi = await startPulumiStandIn(dir, {
    stacks: options.stacks ?? ["fleet", "clawdinator-1"],
    fleetOutputs: options.fleetOutputs ?? { amiId: "ami-0123456789abcdef0", bootstrapBucket: "clawdinator-bootstrap-x" },
  });
  standIns.push(pulumi);
  await writeFile(path.join(work, "Pulumi.yaml"), "name: clawdinators\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: infra/index.ts\n");
  if (options.fleetFile !== false) {
    await writeFile(
      path.join(work, "Pulumi.fleet.yaml"),
      yaml.dump({
        config: {
          "aws:region": "eu-central-1",
          "clawdinators:image": { flake: "github:example/clawdinators", nixosConfiguration: "clawdinator" },
          "clawdinators:instanceDefaults": { instanceType: "t3.medium", secrets: ["discord-token", "anthropic-api-key"], agent: { logLevel: "info" } },
        },
      }),
    );
  }
  await writeFile(path.join(work, "Pulumi.clawdinator-1.yaml"), "config:\n  aws:region: eu-central-1\n");
  await mkdir(path.join(work, "infra/policy"), { recursive: true });
  await writeFile(path.join(work, "infra/policy/PulumiPolicy.yaml"), "runtime: nodejs\n");
  await cp(FIXTURE_SECRETS_DIR, path.join(work, "secrets"), { recursive: true });
  await writeFile(path.join(work, "clawdinator-3.agekey"), `# created: 2026-12-02T05:00:00Z\n# public key: age1example\n${TEST_AGE_IDENTITY}\n`);
  return {
    dir: work,
    // The stand-in is on the command's PATH only: a pulumi found on this process's PATH would be the wrong one.
    spawn: (args) =>
      runCliInProcess(["fleet", "spawn", ...args], {
        cwd: work,
        env: { PATH: `${pulumi.bin}:${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`, PULUMI_CONFIG_PASSPHRASE: "test" },
        timeoutMs: 60_000,
      }),
    calls: async () => [...pulumi.calls],
    stackFiles: async () => (await readdir(work)).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).sort(),
  };
}

/** The call's subcommand words, for comparing sequences (`stack select`, `up`). */
function verb(call: Call): string {
  const words = call.args.filter((a) => !a.startsWith("-"));
  return words[0] === "stack" || words[0] === "config" ? `${words[0]} ${words[1]}` : (words[0] ?? "");
}

describe("clawdinator fleet spawn", () => {
  afterEach(async () => {
    await Promise.all(standIns.splice(0).map((standIn) => standIn.close()));
  });

  it("writes Pulumi.clawdinator-3.yaml from the fleet's defaults, stores the identity as a secret, and runs pulumi up with progress shown", async () => {
    await withTempDir(async (dir) => {
      const p = await project(dir);
      const result = await p.spawn(["3"]);
      assert.equal(result.code, 0, result.stderr);
      const calls = await p.calls();
      // One workspace for the whole spawn: pulumi's version is asked once.
      assert.deepEqual(calls.map(verb), [
        "version",
        "stack ls",
        "stack output",
        "stack output",
        "stack select",
        "stack init",
        "config set",
        "up",
        "stack output",
        "stack output",
        "stack history",
      ]);
      assert.deepEqual(calls[1]?.args, ["stack", "ls", "--json", "--non-interactive"]);
      assert.deepEqual(calls[2]?.args.slice(0, 5), ["stack", "output", "--json", "--stack", "fleet"]);
      assert.deepEqual(calls[4]?.args, ["stack", "select", "--stack", "clawdinator-3", "--non-interactive"]);
      // The identity goes to pulumi on stdin: an argument is in every process listing on the machine.
      assert.deepEqual(calls[6]?.args, ["config", "set", "clawdinators:ageIdentity", "--secret", "--stack", "clawdinator-3", "--non-interactive"]);
      assert.equal(calls[6]?.stdin, TEST_AGE_IDENTITY.trim());
      assert.deepEqual(calls.filter((c) => c.args.some((a) => a.includes("AGE-SECRET-KEY"))), [], "the identity is on no command line");
      const up = calls[7]?.args ?? [];
      assert.deepEqual(up.slice(0, 7), ["up", "--yes", "--skip-preview", "--policy-pack", path.join(p.dir, "infra/policy"), "--exec-kind", "auto.local"]);
      assert.ok(up.includes("--stack") && up[up.indexOf("--stack") + 1] === "clawdinator-3");
      assert.ok(calls.every((c) => c.cwd === p.dir || c.args[0] === "version"), "every stack call runs in the project folder");
      // Progress reached the terminal, and the summary line follows it.
      assert.match(result.stdout, /Updating \(clawdinator-3\)[\s\S]*command:local:Command healthGate created/);
      assert.match(result.stdout, /CLAWDINATOR-3: pulumi up succeeded, health gate passed/);

      const text = await readFile(path.join(p.dir, "Pulumi.clawdinator-3.yaml"), "utf8");
      assert.ok(!text.includes("AGE-SECRET-KEY"), "the identity is never in the stack file");
      assert.deepEqual((yaml.load(text) as { config: unknown }).config, {
        "aws:region": "eu-central-1",
        "clawdinators:fleetStack": "fleet",
        "clawdinators:instanceType": "t3.medium",
        "clawdinators:secrets": ["discord-token", "anthropic-api-key"],
        "clawdinators:agent": { logLevel: "info" },
      });
    });
  });

  for (const bad of ["0", "abc", "10000", "03"]) {
    it(`refuses the number "${bad}" before calling pulumi, writing no file`, async () => {
      await withTempDir(async (dir) => {
        const p = await project(dir);
        const before = await p.stackFiles();
        const result = await p.spawn([bad]);
        assert.equal(result.code, 2, result.stdout);
        assert.match(result.stderr, /spawn needs an instance number from 1 to 9999 \(got "/);
        assert.deepEqual(await p.stackFiles(), before);
        assert.deepEqual(await p.calls(), []);
      });
    });
  }

  it("refuses an existing stack file without --replace, writing nothing and calling nothing", async () => {
    await withTempDir(async (dir) => {
      const p = await project(dir);
      const original = await readFile(path.join(p.dir, "Pulumi.clawdinator-1.yaml"), "utf8");
      await writeFile(path.join(p.dir, "clawdinator-1.agekey"), TEST_AGE_IDENTITY);
      const result = await p.spawn(["1"]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /Pulumi\.clawdinator-1\.yaml already exists: CLAWDINATOR-1 has a stack\. .*--replace/);
      assert.equal(await readFile(path.join(p.dir, "Pulumi.clawdinator-1.yaml"), "utf8"), original);
      assert.deepEqual(await p.calls(), []);
    });
  });

  it("refuses a stack that exists in the backend (but not here) without --replace, writing no file", async () => {
    await withTempDir(async (dir) => {
      const p = await project(dir, { stacks: ["fleet", "clawdinator-3"] });
      const result = await p.spawn(["3"]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /stack clawdinator-3 already exists: deploy it with pulumi up --stack clawdinator-3, or pass --replace/);
      assert.ok(!(await p.stackFiles()).includes("Pulumi.clawdinator-3.yaml"));
      assert.ok(!(await p.calls()).some((c) => verb(c) === "up"));
    });
  });

  it("with --replace rewrites the stack and updates it (select, no init)", async () => {
    await withTempDir(async (dir) => {
      const p = await project(dir, { stacks: ["fleet", "clawdinator-3"] });
      await writeFile(path.join(p.dir, "Pulumi.clawdinator-3.yaml"), "config:\n  aws:region: eu-west-1\n");
      const result = await p.spawn(["3", "--replace"]);
      assert.equal(result.code, 0, result.stderr);
      const verbs = (await p.calls()).map(verb);
      assert.ok(verbs.includes("up") && !verbs.includes("stack init"));
      assert.match(await readFile(path.join(p.dir, "Pulumi.clawdinator-3.yaml"), "utf8"), /aws:region: eu-central-1/);
    });
  });

  it("refuses when the fleet stack is missing: no stack file, no stack in the backend, or never deployed", async () => {
    await withTempDir(async (dir) => {
      await mkdir(path.join(dir, "a"));
      const noFile = await project(path.join(dir, "a"), { fleetFile: false });
      const r1 = await noFile.spawn(["3"]);
      assert.equal(r1.code, 2);
      assert.match(r1.stderr, /no fleet stack file .*Pulumi\.fleet\.yaml: spawn builds on a deployed fleet/);
      assert.deepEqual(await noFile.calls(), []);

      await mkdir(path.join(dir, "b"));
      const noStack = await project(path.join(dir, "b"), { stacks: ["clawdinator-1"] });
      const r2 = await noStack.spawn(["3"]);
      assert.equal(r2.code, 2);
      assert.match(r2.stderr, /no fleet stack "fleet" in this backend: pulumi stack init fleet && pulumi up --stack fleet first/);
      assert.ok(!(await noStack.stackFiles()).includes("Pulumi.clawdinator-3.yaml"));

      await mkdir(path.join(dir, "c"));
      const undeployed = await project(path.join(dir, "c"), { fleetOutputs: {} });
      const r3 = await undeployed.spawn(["3"]);
      assert.equal(r3.code, 2);
      assert.match(r3.stderr, /the fleet stack "fleet" has no image yet \(no amiId output\)/);
      assert.ok(!(await undeployed.stackFiles()).includes("Pulumi.clawdinator-3.yaml"));
    });
  });

  it("says so when the command's PATH has no pulumi, before writing", async () => {
    await withTempDir(async (dir) => {
      const p = await project(dir);
      const result = await runCliInProcess(["fleet", "spawn", "3"], { cwd: p.dir, env: { PATH: path.dirname(process.execPath), PULUMI_CONFIG_PASSPHRASE: "test" } });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /no pulumi on PATH: install the Pulumi CLI/);
      assert.ok(!(await p.stackFiles()).includes("Pulumi.clawdinator-3.yaml"));
      assert.deepEqual(await p.calls(), []);
    });
  });

  it("refuses a missing age identity and defaults the instance schema rejects, before writing", async () => {
    await withTempDir(async (dir) => {
      const p = await project(dir);
      const noKey = await p.spawn(["4"]);
      assert.equal(noKey.code, 2);
      assert.match(noKey.stderr, /no age identity at .*clawdinator-4\.agekey: create it with age-keygen -o clawdinator-4\.agekey/);
      const fleetFile = path.join(p.dir, "Pulumi.fleet.yaml");
      const fleet = yaml.load(await readFile(fleetFile, "utf8")) as { config: Record<string, unknown> };
      fleet.config["clawdinators:instanceDefaults"] = { instanceType: "not a type" };
      await writeFile(fleetFile, yaml.dump(fleet));
      const badDefaults = await p.spawn(["3"]);
      assert.equal(badDefaults.code, 2);
      assert.match(badDefaults.stderr, /the fleet's instanceDefaults do not make a valid clawdinator-3[\s\S]*clawdinators:instanceType: must be an EC2 instance type/);
      assert.ok(!(await p.stackFiles()).includes("Pulumi.clawdinator-3.yaml"));
      assert.ok(!(await p.stackFiles()).includes("Pulumi.clawdinator-4.yaml"));
      assert.deepEqual(await p.calls(), []);
    });
  });
});
