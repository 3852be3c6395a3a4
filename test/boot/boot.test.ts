// `clawdinator boot` (agent/boot) against local servers that speak the real protocols, driven by the
// real AWS SDK clients: IMDSv2, S3 (s3rver) and SSM (JSON 1.1). Steps 1-5 of docs/SECRETS.md.
import assert from "node:assert/strict";
import { lstat, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { BootError } from "../../agent/boot/errors.ts";
import { parseConfig } from "../../agent/config/load.ts";
import { ACCESS_POINT, bootWorld, deleteObject, FILE_SYSTEM, PARAMETER, PLAINTEXTS, PREFIX, putObject } from "./harness.ts";

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

async function rejectsWith(promise: Promise<unknown>, code: string, subject: RegExp | string): Promise<BootError> {
  const error = await promise.then(
    () => assert.fail(`expected BootError ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof BootError, `expected a BootError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (typeof subject === "string") assert.equal(error.subject, subject);
  else assert.match(error.subject, subject);
  return error;
}

describe("clawdinator boot", () => {
  it("decrypts every secret of a bundle uploaded from the real stack file: byte-equal, 0400, the agent's", async (t) => {
    const world = await bootWorld(t);
    await world.upload({ viaCli: true });
    const settings = world.settings();
    const result = await world.boot(settings);

    assert.deepEqual([...result.secrets].sort(), Object.keys(PLAINTEXTS).sort());
    for (const [name, plain] of Object.entries(PLAINTEXTS)) {
      const file = path.join(settings.agenixDir, name);
      assert.deepEqual(await readFile(file), Buffer.from(plain), `${name} decrypts to its plain text`);
      const info = await stat(file);
      assert.equal(info.mode & 0o777, 0o400, `${name} is 0400`);
      assert.equal(info.uid, world.owner.uid);
      assert.equal(info.gid, world.owner.gid);
    }
    // SSM was asked once, signed, for this instance's parameter, with decryption.
    assert.deepEqual(world.ssm.requests.map((r) => [r.target, r.body.Name, r.body.WithDecryption, r.signed]), [["AmazonSSM.GetParameter", PARAMETER, true, true]]);
    // Every IMDS read carried a session token.
    assert.ok(world.imds.requests.some((r) => r.method === "PUT" && r.path === "/latest/api/token"));
    assert.ok(world.imds.requests.filter((r) => r.method === "GET").every((r) => r.withToken && r.status === 200));
  });

  it("writes the gateway config the agent accepts, secrets pointed at the unit's credentials, and mounts the hive mind over TLS", async (t) => {
    const world = await bootWorld(t);
    await world.upload();
    const settings = world.settings();
    await writeFile(path.join(world.root, "base.json"), JSON.stringify({ access: { maintainers: { users: ["123456789012345678"] } }, logLevel: "warn" }));
    const result = await world.boot({ ...settings, baseConfig: path.join(world.root, "base.json") });

    const config = JSON.parse(await readFile(result.configFile, "utf8")) as Record<string, unknown>;
    const parsed = parseConfig(config, result.configFile);
    assert.equal(parsed.instance, "CLAWDINATOR-1");
    assert.equal(parsed.secretsFromEnv, false);
    assert.equal(parsed.discordTokenFile, "/run/credentials/clawdinator.service/discord-token");
    assert.equal(parsed.anthropicApiKeyFile, "/run/credentials/clawdinator.service/anthropic-api-key");
    // The bundle ships openai-api-key, but this unit loads no such credential: left out, not a dangling path.
    assert.equal(parsed.openaiApiKeyFile, undefined);
    // The image's base config survives where the bundle says nothing; the bundle wins where both speak.
    assert.deepEqual(parsed.access.maintainers.users, ["123456789012345678"]);
    assert.equal(parsed.logLevel, "info");
    const configStat = await stat(result.configFile);
    assert.equal(configStat.mode & 0o777, 0o640);
    if (process.getuid?.() === 0) assert.equal(configStat.uid, 0, "root's: the agent may read its config, never change it");
    assert.equal(configStat.gid, world.owner.gid);
    // The state folder is the agent's, as its unit's StateDirectory= expects, and so is the mount point.
    assert.equal((await stat(settings.stateDir)).uid, world.owner.uid);
    assert.equal((await stat(settings.memory.mountPoint)).uid, world.owner.uid);
    const repos = JSON.parse(await readFile(path.join(settings.runDir, "repos.json"), "utf8")) as Array<{ name: string }>;
    assert.deepEqual(repos.map((r) => r.name), ["clawdinators"]);

    assert.equal(result.mounted, true);
    assert.deepEqual(world.mounts, [["mount", "-t", "efs", "-o", `tls,iam,accesspoint=${ACCESS_POINT}`, `${FILE_SYSTEM}:/`, settings.memory.mountPoint]]);
  });

  it("changes nothing on a second run with nothing new", async (t) => {
    const world = await bootWorld(t);
    await world.upload();
    const settings = world.settings();
    const first = await world.boot(settings);
    assert.ok(first.changed.length > 0);
    await world.markMounted(settings.memory.mountPoint);
    const files = [...(await filesUnder(settings.agenixDir)), ...(await filesUnder(settings.runDir))];
    const before = await Promise.all(files.map(async (f) => ({ f, s: await lstat(f) })));

    const second = await world.boot(settings);
    assert.deepEqual(second.changed, []);
    assert.equal(second.mounted, false);
    assert.equal(world.mounts.length, 1, "mounted once");
    for (const { f, s } of before) {
      const now = await lstat(f);
      assert.equal(now.ino, s.ino, `${f} was not replaced`);
      assert.equal(now.mtimeMs, s.mtimeMs, `${f} was not rewritten`);
    }
  });

  it("mends a secret that was changed or re-moded on disk, and removes one the bundle no longer ships", async (t) => {
    const world = await bootWorld(t);
    await world.upload();
    const settings = world.settings();
    await world.boot(settings);
    const token = path.join(settings.agenixDir, "discord-token");
    await writeFile(token, "tampered", { mode: 0o644 });
    await writeFile(path.join(settings.agenixDir, "old-secret"), "rotated out");
    const result = await world.boot(settings);
    assert.deepEqual(await readFile(token, "utf8"), PLAINTEXTS["discord-token"]);
    assert.equal((await stat(token)).mode & 0o777, 0o400);
    assert.ok(result.changed.includes(path.join(settings.agenixDir, "old-secret")));
    await assert.rejects(lstat(path.join(settings.agenixDir, "old-secret")), { code: "ENOENT" });
  });

  it("refuses a tampered object by name and decrypts nothing", async (t) => {
    const world = await bootWorld(t);
    await world.upload();
    await putObject(world, `${PREFIX}secrets/anthropic-api-key.age`, "age-encryption.org/v1\n-> X25519 swapped\n");
    const settings = world.settings();
    const error = await rejectsWith(world.boot(settings), "OBJECT_MISMATCH", "secrets/anthropic-api-key.age");
    assert.match(error.message, /secrets\/anthropic-api-key\.age does not match the manifest/);
    assert.deepEqual(await filesUnder(settings.agenixDir), []);
    assert.deepEqual(await filesUnder(settings.runDir), []);
    assert.equal(world.ssm.requests.length, 0, "the identity was never even fetched");
  });

  it("waits for a manifest that is not there yet, and boots once it arrives", async (t) => {
    const world = await bootWorld(t);
    await world.upload();
    const manifest = await world.s3.send(new (await import("@aws-sdk/client-s3")).GetObjectCommand({ Bucket: "clawdinator-bootstrap-boot", Key: `${PREFIX}manifest.json` }));
    const body = Buffer.from(await manifest.Body!.transformToByteArray());
    await deleteObject(world, `${PREFIX}manifest.json`);
    const sleeps: number[] = [];
    let put = false;
    const settings = world.settings();
    const booting = world.boot(settings, {
      get sleeps() {
        // The deploy finishes uploading during the second wait.
        if (sleeps.length === 1 && !put) {
          put = true;
          void putObject(world, `${PREFIX}manifest.json`, body);
        }
        return sleeps;
      },
    });
    const result = await booting;
    assert.ok(sleeps.length >= 1, "it waited");
    assert.equal(result.secrets.length, 3);
  });

  it("gives up on a missing manifest after the wait, naming it and what to run", async (t) => {
    const world = await bootWorld(t);
    const sleeps: number[] = [];
    const error = await rejectsWith(world.boot(world.settings({ manifestWaitSeconds: 20 }), { sleeps }), "MANIFEST_MISSING", /manifest\.json$/);
    assert.match(error.message, /bootstrap upload --instance CLAWDINATOR-1/);
    assert.ok(sleeps.length >= 3, `retried with backoff (${sleeps.join(", ")})`);
    assert.ok(sleeps.every((ms, i) => i === 0 || ms >= (sleeps[i - 1] ?? 0) || sleeps.slice(0, i).reduce((a, b) => a + b, 0) + ms >= 20_000));
    assert.equal(sleeps.reduce((a, b) => a + b, 0), 20_000, "waits exactly the configured bound");
  });

  it("names the parameter when SSM denies the identity, and decrypts nothing", async (t) => {
    const world = await bootWorld(t);
    await world.upload();
    world.ssm.denied.add(PARAMETER);
    const settings = world.settings();
    const error = await rejectsWith(world.boot(settings), "IDENTITY_UNREADABLE", PARAMETER);
    assert.match(error.message, /AccessDeniedException/);
    assert.match(error.message, /ssm:GetParameter/);
    assert.deepEqual(await filesUnder(settings.agenixDir), []);
  });

  it("refuses before decrypting when the gateway needs a credential the bundle lacks", async (t) => {
    const world = await bootWorld(t);
    await world.upload();
    const settings = world.settings({
      credentials: [{ name: "github-app-key", configKey: "githubApp.privateKeyFile", path: "/run/credentials/clawdinator.service/github-app-key" }],
    });
    const error = await rejectsWith(world.boot(settings), "CREDENTIAL_MISSING", "github-app-key");
    assert.match(error.message, /clawdinators:secrets/);
    assert.equal(world.ssm.requests.length, 0);
  });

  it("uses IMDSv2 only: a request without a token is refused, and a service that refuses tokens stops boot", async (t) => {
    const world = await bootWorld(t);
    const plain = await fetch(`${world.imds.endpoint}/latest/user-data`);
    assert.equal(plain.status, 401);

    const refusing = await bootWorld(t, { refuseTokens: true, allowV1: true });
    await rejectsWith(refusing.boot(), "IMDS_UNAVAILABLE", "/latest/user-data");
    // Even with IMDSv1 allowed by the service, boot never fell back to an unauthenticated read.
    assert.ok(refusing.imds.requests.every((r) => r.method === "PUT" || r.withToken));
  });

  it("leaves the identity in no file", async (t) => {
    const world = await bootWorld(t);
    await world.upload();
    const settings = world.settings();
    await world.boot(settings);
    const key = world.identity.slice("AGE-SECRET-KEY-1".length);
    for (const file of await filesUnder(path.join(world.root, "run"))) {
      assert.ok(!(await readFile(file, "latin1")).includes(key), `${file} holds the identity`);
    }
    for (const file of await filesUnder(path.join(world.root, "var"))) {
      assert.ok(!(await readFile(file, "latin1")).includes(key), `${file} holds the identity`);
    }
  });
});
