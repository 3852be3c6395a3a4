// `clawdinator image ...` end to end, endpoints from the SDK's standard environment variables,
// against s3rver and the EC2/EBS fake. The first import goes through the real entry in a child
// process (progress on a pipe); the rest run the same command line in this process. The terminal
// progress bar is test/image/progress.test.ts's.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { runCli, runCliInProcess } from "../helpers/cli.ts";
import { BUCKET, startWorld, type World } from "./harness.ts";

describe("clawdinator image", () => {
  let world: World;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    world = await startWorld({ seed: "cli", sizeMiB: 32, dataMiB: 8 });
    env = world.cliEnv({ CLAWDINATOR_IMAGE_BUCKET: BUCKET });
  });
  after(() => world.close());

  const source = (): string[] => ["--flake", "/src/clawdinators", "--configuration", "clawdinator-1", "--nix", world.nix.binary];

  it("import runs the pipeline with endpoints from AWS_ENDPOINT_URL_*, plain progress lines off a terminal", async () => {
    const result = await runCli(["image", "import", ...source(), "--keep", "3"], { env, timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    const amiId = /^amiId: (ami-[0-9a-f]{17})$/m.exec(result.stdout)?.[1];
    assert.ok(amiId, result.stdout);
    assert.equal(world.ec2.state.images.get(amiId)?.state, "available");
    assert.match(result.stderr, /^image: ebs-direct \d+% snap-/m);
    assert.ok(!result.stderr.includes("\r") && !result.stderr.includes("\u001b["), "no terminal control codes in a pipe");
    assert.match(result.stdout, /^adopted: false$/m);
  });

  it("import again adopts the AMI (JSON output)", async () => {
    const result = await runCliInProcess(["image", "import", ...source(), "--json"], { env, timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as { adopted: boolean; amiId: string };
    assert.equal(parsed.adopted, true);
    assert.equal(world.ec2.count("StartSnapshot"), 1);
  });

  it("build prints the identity and the image file", async () => {
    const result = await runCliInProcess(["image", "build", ...source()], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^identity: \/nix\/store\/[0-9a-z]{32}-nixos-amazon-image/m);
    assert.match(result.stdout, /^image: .*nixos\.raw$/m);
  });

  it("upload of a prebuilt image is skipped the second time", async () => {
    const imagePath = `${world.dir}/prebuilt.raw`;
    await writeFile(imagePath, Buffer.alloc(6 * 2 ** 20, 1));
    const first = await runCliInProcess(["image", "upload", "--image", imagePath, "--json"], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.equal((JSON.parse(first.stdout) as { uploaded: boolean }).uploaded, true);
    const uploads = world.s3.uploads().length;
    const second = await runCliInProcess(["image", "upload", "--image", imagePath, "--json"], { env });
    assert.equal((JSON.parse(second.stdout) as { uploaded: boolean }).uploaded, false);
    assert.equal(world.s3.uploads().length, uploads);
  });

  it("signs with the keys in the environment it is given, not the process's", async () => {
    const imagePath = `${world.dir}/own-keys.raw`;
    await writeFile(imagePath, Buffer.alloc(2 ** 20, 2));
    // s3rver refuses any key but its own: a request signed with the process's keys fails.
    const processKey = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = "AKIAPROCESSNOTTHECLI";
    try {
      const result = await runCliInProcess(["image", "upload", "--image", imagePath, "--json"], { env: { ...env, AWS_ACCESS_KEY_ID: "S3RVER" } });
      assert.equal(result.code, 0, result.stderr);
      assert.equal((JSON.parse(result.stdout) as { uploaded: boolean }).uploaded, true);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = processKey;
    }
  });

  it("keys the store refuses are an AWS refusal that says what to check, not an UnknownError", async () => {
    const imagePath = `${world.dir}/refused.raw`;
    await writeFile(imagePath, Buffer.alloc(2 ** 20, 3));
    const result = await runCliInProcess(["image", "upload", "--image", imagePath], { env: { ...env, AWS_ACCESS_KEY_ID: "AKIANOTKNOWNTOS3RVER" } });
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /^clawdinator: AWS refused the request \(.+\): check the credentials \(AWS_ACCESS_KEY_ID/m);
    assert.doesNotMatch(result.stderr, /UnknownError/);
  });

  it("ls lists the image; prune never removes the only (newest) one; --keep 0 is refused", async () => {
    const listed = await runCliInProcess(["image", "ls", "--json"], { env });
    const images = JSON.parse(listed.stdout) as { amiId: string }[];
    assert.equal(images.length, 1);
    const dry = await runCliInProcess(["image", "prune", "--keep", "1", "--dry-run"], { env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^wouldRemove: nothing$/m);
    const refused = await runCliInProcess(["image", "prune", "--keep", "0"], { env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--keep must be at least 1/);
    const pruned = await runCliInProcess(["image", "prune", "--keep", "1"], { env });
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /^removed: nothing$/m);
    assert.equal(world.ec2.state.images.get(images[0]?.amiId ?? "")?.state, "available");
  });

  it("a user error exits 2 and names the flag", async () => {
    const result = await runCliInProcess(["image", "import", ...source(), "--method", "scp"], { env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--method: "scp" is not one of/);
    const noSource = await runCliInProcess(["image", "build"], { env });
    assert.equal(noSource.code, 2);
    assert.match(noSource.stderr, /--flake REF --configuration NAME/);
  });
});
