// `clawdinator bootstrap upload` through the CLI's command line (in this process, with credentials
// from the environment it is given), against s3rver (a real S3 emulator) with the real AWS SDK: it
// uploads byte for byte what `pulumi up` declares for the same stack, manifest last, and refuses
// missing or plain-text secrets before uploading anything.
import assert from "node:assert/strict";
import { cp, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { runCliInProcess, withTempDir } from "../helpers/cli.ts";
import { startTempS3, type S3Fake } from "../helpers/s3.ts";
import { FIXTURE_SECRETS_DIR, fleetConfig, instanceConfig, REGION, runStack, type StackRun } from "./harness.ts";

const BUCKET = "clawdinator-bootstrap-test";
const CREDENTIALS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "", AWS_PROFILE: "" };

let s3: S3Fake;
let endpoint = "";
/** The keys PUT so far, in order. */
const puts = (): string[] => s3.requests.filter((r) => r.method === "PUT").map((r) => decodeURIComponent(r.url.split("?")[0] ?? ""));
let fleet: StackRun;

/** A project folder with the instance's stack file (JSON is YAML), its secrets and its stack outputs. */
async function project(dir: string, instance: string, overrides: Record<string, unknown> = {}, outputOverrides: Record<string, unknown> = {}): Promise<void> {
  const config = { ...instanceConfig({ "clawdinators:secretsDir": "secrets", ...overrides }) } as Record<string, string>;
  delete config["clawdinators:ageIdentity"]; // in a real stack file it is an encrypted `secure:` value
  const parsed = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, /^[[{]/.test(v) ? JSON.parse(v) : v]));
  await writeFile(path.join(dir, `Pulumi.${instance.toLowerCase()}.yaml`), JSON.stringify({ config: parsed }, null, 2));
  await cp(FIXTURE_SECRETS_DIR, path.join(dir, "secrets"), { recursive: true });
  // What the instance stack exports: its parameter is named by its fleet's name.
  const ageIdentityParameter = `/${String(fleet.outputs.fleetName)}/${instance}/age-identity`;
  const outputs = { bootstrapBucket: BUCKET, efsId: fleet.outputs.efsId, efsAccessPointId: fleet.outputs.efsAccessPointId, ageIdentityParameter, ...outputOverrides };
  await writeFile(path.join(dir, "outputs.json"), JSON.stringify(outputs));
}

async function stored(prefix: string): Promise<Map<string, Buffer>> {
  const s3 = new S3Client({ region: REGION, endpoint, forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
  try {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    const objects = new Map<string, Buffer>();
    for (const { Key } of listed.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
      objects.set(String(Key), Buffer.from((await body.Body?.transformToByteArray()) ?? []));
    }
    return objects;
  } finally {
    s3.destroy();
  }
}

const upload = (dir: string, instance: string, extra: string[] = []) =>
  runCliInProcess(["bootstrap", "upload", "--instance", instance, "--outputs", "outputs.json", "--endpoint-url", endpoint, ...extra], { cwd: dir, env: CREDENTIALS });

describe("clawdinator bootstrap upload", () => {
  before(async () => {
    s3 = await startTempS3([BUCKET]);
    endpoint = s3.endpoint;
    fleet = await runStack({ stack: "fleet", config: fleetConfig() });
  });
  after(async () => {
    await s3.close();
  });

  it("uploads byte for byte what pulumi up declares for the same stack, manifest last, and verifies it", async () => {
    await withTempDir(async (dir) => {
      await project(dir, "CLAWDINATOR-3");
      const before_ = puts().length;
      const result = await upload(dir, "CLAWDINATOR-3");
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /7 objects under s3:\/\/clawdinator-bootstrap-test\/bootstrap\/CLAWDINATOR-3\/, verified/);

      const declared = await runStack({
        stack: "clawdinator-3",
        config: instanceConfig(),
        secretKeys: ["clawdinators:ageIdentity"],
        fleetOutputs: { ...fleet.outputs, bootstrapBucket: BUCKET },
      });
      const expected = new Map(
        declared.resources
          .filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2")
          .map((r) => [String(r.inputs.key), Buffer.from(String(r.inputs.contentBase64), "base64")]),
      );
      const actual = await stored("bootstrap/CLAWDINATOR-3/");
      assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
      for (const [key, body] of expected) assert.ok(actual.get(key)?.equals(body), `${key} differs from what pulumi declares`);

      const uploaded = puts().slice(before_).map((url) => url.replace(`/${BUCKET}/`, ""));
      assert.equal(uploaded.length, expected.size);
      assert.equal(uploaded.at(-1), "bootstrap/CLAWDINATOR-3/manifest.json");
    });
  });

  it("refuses a missing secret file before uploading anything, naming the file and the fix (exit 2)", async () => {
    await withTempDir(async (dir) => {
      await project(dir, "CLAWDINATOR-4", { "clawdinators:secrets": ["discord-token", "github-app-key", "slack-token"] });
      const before_ = puts().length;
      const result = await upload(dir, "CLAWDINATOR-4");
      assert.equal(result.code, 2);
      assert.match(result.stderr, /secrets\/slack-token\.age does not exist/);
      assert.match(result.stderr, /agenix -e slack-token\.age/);
      assert.equal(puts().length, before_);
    });
  });

  it("refuses a plain-text secret file and uploads nothing (exit 2)", async () => {
    await withTempDir(async (dir) => {
      await project(dir, "CLAWDINATOR-5");
      await writeFile(path.join(dir, "secrets", "discord-token.age"), "MTA4.my-real-discord-token\n");
      const before_ = puts().length;
      const result = await upload(dir, "CLAWDINATOR-5");
      assert.equal(result.code, 2);
      assert.match(result.stderr, /discord-token\.age is not age ciphertext/);
      assert.ok(!result.stderr.includes("my-real-discord-token"));
      assert.equal(puts().length, before_);
    });
  });

  it("--dry-run lists the objects and uploads nothing", async () => {
    await withTempDir(async (dir) => {
      await project(dir, "CLAWDINATOR-6");
      const before_ = puts().length;
      const result = await upload(dir, "CLAWDINATOR-6", ["--dry-run"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim().split("\n").length, 7);
      assert.match(result.stdout, /would upload s3:\/\/clawdinator-bootstrap-test\/bootstrap\/CLAWDINATOR-6\/manifest\.json/);
      assert.equal(puts().length, before_);
    });
  });

  it("says what is missing: a bad instance name, no outputs, a bad stack file", async () => {
    await withTempDir(async (dir) => {
      await project(dir, "CLAWDINATOR-7", { "clawdinators:agent": { logLevel: "loud" } });
      const badName = await runCliInProcess(["bootstrap", "upload", "--instance", "clawdinator-7"], { cwd: dir, env: CREDENTIALS });
      assert.equal(badName.code, 2);
      assert.match(badName.stderr, /--instance must be CLAWDINATOR-<n>/);
      const badConfig = await upload(dir, "CLAWDINATOR-7");
      assert.equal(badConfig.code, 2);
      assert.match(badConfig.stderr, /clawdinators:agent\.logLevel/);
      await project(dir, "CLAWDINATOR-8");
      const noOutputs = await runCliInProcess(["bootstrap", "upload", "--instance", "CLAWDINATOR-8"], { cwd: dir, env: CREDENTIALS });
      assert.equal(noOutputs.code, 2);
      assert.match(noOutputs.stderr, /--bucket is needed \(or --outputs with "bootstrapBucket"\)/);
      // The parameter's name holds the fleet's, which only the stacks know: never guessed, never another instance's.
      await project(dir, "CLAWDINATOR-8", {}, { ageIdentityParameter: undefined });
      const noParameter = await upload(dir, "CLAWDINATOR-8");
      assert.equal(noParameter.code, 2);
      assert.match(noParameter.stderr, /--age-identity-parameter is needed \(or --outputs with "ageIdentityParameter"\)/);
      await project(dir, "CLAWDINATOR-8", {}, { ageIdentityParameter: "/clawdinators-staging/CLAWDINATOR-2/age-identity" });
      const otherInstance = await upload(dir, "CLAWDINATOR-8");
      assert.equal(otherInstance.code, 2);
      assert.match(otherInstance.stderr, /--age-identity-parameter \/clawdinators-staging\/CLAWDINATOR-2\/age-identity is not CLAWDINATOR-8's parameter/);
      assert.match(otherInstance.stderr, /pulumi stack output --json --stack clawdinator-8 > outputs\.json/);
      // A stack file whose config is not a mapping would otherwise fall back to every default.
      await writeFile(path.join(dir, "Pulumi.clawdinator-9.yaml"), "config:\n  - secrets\n");
      const listConfig = await upload(dir, "CLAWDINATOR-9");
      assert.equal(listConfig.code, 2);
      assert.match(listConfig.stderr, /Pulumi\.clawdinator-9\.yaml: expected a mapping with a config: mapping inside/);
    });
  });
});
