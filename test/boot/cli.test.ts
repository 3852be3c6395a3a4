// `clawdinator boot --settings FILE` as the boot unit runs it: a separate process, AWS credentials
// from the instance role through IMDSv2 (the SDK's default chain against the local metadata
// service), JSON logs on stderr that carry no secret and no identity. Its failures, which need no
// process to show, run the same command line in this process.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { it } from "node:test";
import { logLines, runCli, runCliInProcess } from "../helpers/cli.ts";
import { ACCESS_POINT, bootWorld, FILE_SYSTEM, PLAINTEXTS } from "./harness.ts";

it("boots through the CLI with the instance role's credentials from IMDS, and logs no secret", async (t) => {
  const world = await bootWorld(t);
  await world.upload();
  const { settings, settingsFile, mountArgs, env } = await world.asBootUnit();

  const result = await runCli(["boot", "--settings", settingsFile], {
    env,
    timeoutMs: 60_000,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^CLAWDINATOR-1: 3 secret\(s\) in place, config .*config\.json, \d+ change\(s\), hive mind mounted\n$/);
  assert.deepEqual(await readFile(path.join(settings.agenixDir, "discord-token"), "utf8"), PLAINTEXTS["discord-token"]);
  assert.deepEqual(await mountArgs(), ["-t", "efs", "-o", `tls,iam,accesspoint=${ACCESS_POINT}`, `${FILE_SYSTEM}:/`, settings.memory.mountPoint]);
  // The credentials really came from the role: IMDS served them.
  assert.ok(world.imds.requests.some((r) => r.path.startsWith("/latest/meta-data/iam/security-credentials/clawdinator-1") && r.status === 200));

  const lines = logLines(result.stderr);
  assert.ok(lines.some((l) => l.msg === "boot complete"));
  const identityBody = world.identity.slice("AGE-SECRET-KEY-1".length);
  assert.ok(!result.stderr.includes(identityBody) && !result.stdout.includes(identityBody), "the identity is never logged");
  for (const plain of Object.values(PLAINTEXTS)) assert.ok(!result.stderr.includes(plain.trim()), "no secret is logged");
});

it("fails with exit 1 and a message naming the object when the bundle is missing", async (t) => {
  const world = await bootWorld(t);
  const settingsFile = path.join(world.root, "boot-settings.json");
  await writeFile(settingsFile, JSON.stringify(world.settings({ manifestWaitSeconds: 0 })));
  const result = await runCliInProcess(["boot", "--settings", settingsFile], {
    env: { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_PROFILE: "" },
    timeoutMs: 60_000,
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /clawdinator: no manifest at s3:\/\/clawdinator-bootstrap-boot\/bootstrap\/CLAWDINATOR-1\/manifest\.json/);
  assert.doesNotMatch(result.stderr, /CLAWDINATOR_DEBUG/, "a known failure prints its message, not a stack hint");
});

it("refuses settings that are not the module's, naming the field", async (t) => {
  const world = await bootWorld(t);
  const settingsFile = path.join(world.root, "boot-settings.json");
  await writeFile(settingsFile, JSON.stringify({ owner: { uid: 2000, gid: 2000 }, agenixDir: "run/agenix" }));
  const result = await runCliInProcess(["boot", "--settings", settingsFile]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /agenixDir: must be an absolute path/);
});
