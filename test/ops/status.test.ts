// Health reports against s3rver with the real AWS SDK: what the status writer publishes (and that
// no configured secret value ever reaches it), `clawdinator fleet status` through the CLI's command
// line (in this process, with credentials and endpoint from the environment it is given), and the
// deploy gate's `wait-healthy` (in time, stale, previous boot, timeout).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { HealthGateError, waitHealthy } from "../../agent/ops/health.ts";
import { errorClassOf, StatusReporter, statusKey, type HostFacts, type StatusDocument } from "../../agent/ops/status.ts";
import { openS3Store, type ObjectStore } from "../../agent/ops/store.ts";
import { statusKey as infraStatusKey } from "../../infra/bundle.ts";
import { runCliInProcess, withTempDir } from "../helpers/cli.ts";
import { startTempS3, type S3Fake } from "../helpers/s3.ts";

const BUCKET = "clawdinator-bootstrap-status";
/** The fleet-status test lists the whole prefix, so it has a bucket of its own. */
const FLEET_BUCKET = "clawdinator-bootstrap-fleet";
const REGION = "eu-central-1";
const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const SECRETS = {
  discordToken: "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.discord-token-value-0123456789abcdef",
  anthropicApiKey: "sk-ant-api03-anthropic-secret-value-0123456789",
  githubAppPrivateKey: "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretkeymaterialline0123456789abcdef\n-----END RSA PRIVATE KEY-----",
};
const BOOT_AT = new Date("2026-12-02T05:00:00.000Z");

let s3: S3Fake;
let store: ObjectStore;

function host(overrides: Partial<HostFacts> = {}): () => Promise<HostFacts> {
  return async () => ({
    bootId: "3f1c0d9e-6a57-4c1e-9f0b-2a1d5c7e8b90",
    bootedAt: BOOT_AT.toISOString(),
    systemPath: "/nix/store/0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-nixos-system-clawdinator-25.11",
    configurationRevision: "1a2b3c4d5e6f",
    ...overrides,
  });
}

async function reporter(dir: string, instance: string, now: () => Date, facts = host(), target = store): Promise<StatusReporter> {
  return new StatusReporter({ instance, agentVersion: "0.1.0", factsDir: dir, store: target, secrets: Object.values(SECRETS), hostFacts: facts, now });
}

/** A healthy instance as the boot service and the gateway would leave it. */
async function healthyInstance(dir: string, instance: string, at: Date, facts = host(), target = store): Promise<StatusReporter> {
  const r = await reporter(dir, instance, () => at, facts, target);
  await r.update("boot", { result: "success", detail: null, at: at.toISOString(), instanceId: "i-0123456789abcdef0", imageId: "ami-0123456789abcdef0" });
  await r.update("gateway", { state: "connected", reason: null, since: at.toISOString(), heartbeatAt: at.toISOString(), transport: "discord" });
  return r;
}

async function readBack(key: string): Promise<Buffer> {
  const client = new S3Client({ region: REGION, endpoint: s3.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from((await response.Body?.transformToByteArray()) ?? new Uint8Array());
  } finally {
    client.destroy();
  }
}

describe("health reports against s3rver", () => {
  before(async () => {
    s3 = await startTempS3([BUCKET, FLEET_BUCKET]);
    store = await openS3Store({ bucket: BUCKET, region: REGION, endpoint: s3.endpoint, credentials: CREDENTIALS });
  });
  after(async () => {
    store.close();
    await s3.close();
  });

  describe("the status writer", () => {
    it("writes the very key the instance role may write (infra and agent name it separately, across the layer boundary)", () => {
      for (const instance of ["CLAWDINATOR-1", "CLAWDINATOR-42"]) assert.equal(statusKey(instance), infraStatusKey(instance));
    });

    it("publishes every field the operator needs to status/CLAWDINATOR-<n>.json, byte for byte", async () => {
      await withTempDir(async (dir) => {
        const at = new Date("2026-12-02T05:01:00.000Z");
        const r = await healthyInstance(dir, "CLAWDINATOR-7", at);
        const published = await r.publish();
        const stored = await readBack(statusKey("CLAWDINATOR-7"));
        const expected = Buffer.from(`${JSON.stringify(published, null, 2)}\n`);
        assert.equal(createHash("sha256").update(stored).digest("hex"), createHash("sha256").update(expected).digest("hex"));
        const document = JSON.parse(stored.toString("utf8")) as StatusDocument;
        assert.equal(document.instance, "CLAWDINATOR-7");
        assert.equal(document.instanceId, "i-0123456789abcdef0");
        assert.equal(document.imageId, "ami-0123456789abcdef0");
        assert.equal(document.configurationRevision, "1a2b3c4d5e6f");
        assert.equal(document.agentVersion, "0.1.0");
        assert.equal(document.bootId, "3f1c0d9e-6a57-4c1e-9f0b-2a1d5c7e8b90");
        assert.equal(document.boot?.result, "success");
        assert.equal(document.gateway?.state, "connected");
        assert.deepEqual(document.lastError, { model: null, github: null });
        assert.equal(document.heartbeatAt, at.toISOString());
      });
    });

    it("reads the boot id and boot time from the (injectable) proc files", async () => {
      await withTempDir(async (dir) => {
        await writeFile(path.join(dir, "boot_id"), "0b5c7a2e-1111-2222-3333-444455556666\n");
        await writeFile(path.join(dir, "stat"), "cpu  1 2 3\nbtime 1764651600\nprocesses 12\n");
        await writeFile(path.join(dir, "release.json"), JSON.stringify({ configurationRevision: "abc1234" }));
        const { readHostFacts } = await import("../../agent/ops/status.ts");
        const facts = await readHostFacts({ bootIdFile: path.join(dir, "boot_id"), procStat: path.join(dir, "stat"), currentSystem: path.join(dir, "none"), releaseFile: path.join(dir, "release.json") });
        assert.deepEqual(facts, { bootId: "0b5c7a2e-1111-2222-3333-444455556666", bootedAt: "2025-12-02T05:00:00.000Z", systemPath: null, configurationRevision: "abc1234" });
      });
    });

    it("never publishes a configured secret value, even when an error detail quotes one", async () => {
      await withTempDir(async (dir) => {
        const at = new Date("2026-12-02T05:02:00.000Z");
        const r = await reporter(dir, "CLAWDINATOR-8", () => at);
        await r.update("boot", { result: "failed", detail: `could not decrypt with ${SECRETS.githubAppPrivateKey}`, at: at.toISOString(), instanceId: null, imageId: null });
        await r.update("gateway", { state: "disconnected", reason: `token-rejected: ${SECRETS.discordToken}`, since: at.toISOString(), heartbeatAt: at.toISOString(), transport: "discord" });
        class AuthenticationError extends Error {
          override readonly name = "AuthenticationError";
        }
        await r.update("errors", { model: { class: errorClassOf(new AuthenticationError(`bad key ${SECRETS.anthropicApiKey}`)), at: at.toISOString() }, github: null });
        const text = (await readBack(statusKey("CLAWDINATOR-8"))).toString("utf8");
        for (const [name, value] of Object.entries(SECRETS)) {
          assert.ok(!text.includes(value), `${name} leaked into the status`);
          for (const line of value.split("\n")) if (line.length >= 16) assert.ok(!text.includes(line), `a line of ${name} leaked`);
        }
        assert.match(text, /"reason": "token-rejected: \[redacted\]"/);
        assert.match(text, /"class": "AuthenticationError"/);
        // The local section files (tmpfs on an instance) hold no secret either.
        for (const section of ["boot", "gateway", "errors"]) {
          const { readFile } = await import("node:fs/promises");
          const local = await readFile(path.join(dir, `${section}.json`), "utf8");
          for (const value of Object.values(SECRETS)) assert.ok(!local.includes(value));
        }
      });
    });

    it("keeps each writer's section: a self-update report survives the gateway's next heartbeat", async () => {
      await withTempDir(async (dir) => {
        const at = new Date("2026-12-02T05:03:00.000Z");
        const gateway = await healthyInstance(dir, "CLAWDINATOR-9", at);
        const updater = await reporter(dir, "CLAWDINATOR-9", () => at);
        await updater.update("update", { result: "rolled-back", release: "github:o/r/0123abc", detail: "gateway not connected within 5m", at: at.toISOString() });
        const document = await gateway.publish();
        assert.equal(document.update?.result, "rolled-back");
        assert.equal(document.gateway?.state, "connected");
      });
    });
  });

  describe("clawdinator fleet status", () => {
    it("prints image, revision, healthy, heartbeat age and last error; a stale and a missing instance are unhealthy, and say so", async () => {
      await withTempDir(async (dir) => {
        const now = new Date();
        const fleetStore = await openS3Store({ bucket: FLEET_BUCKET, region: REGION, endpoint: s3.endpoint, credentials: CREDENTIALS });
        await healthyInstance(path.join(dir, "f1"), "CLAWDINATOR-1", now, host(), fleetStore);
        const stale = await healthyInstance(path.join(dir, "f2"), "CLAWDINATOR-2", new Date(now.getTime() - 20 * 60_000), host(), fleetStore);
        fleetStore.close();
        await stale.update("errors", { model: { class: "RateLimitError", at: new Date(now.getTime() - 21 * 60_000).toISOString() }, github: null });
        // CLAWDINATOR-3 has a stack here but never reported.
        await writeFile(path.join(dir, "Pulumi.clawdinator-3.yaml"), "config: {}\n");
        const env = { ...s3.env };
        const table = await runCliInProcess(["fleet", "status", "--bucket", FLEET_BUCKET, "--endpoint-url", s3.endpoint], { cwd: dir, env });
        assert.equal(table.code, 1, table.stderr);
        const lines = table.stdout.split("\n");
        assert.match(lines[0] ?? "", /^INSTANCE\s+IMAGE\s+REVISION\s+HEALTHY\s+HEARTBEAT\s+LAST ERROR$/);
        assert.match(table.stdout, /^CLAWDINATOR-1\s+ami-0123456789abcdef0\s+1a2b3c4d5e6f\s+yes\s+\d+s ago\s+-$/m);
        assert.match(table.stdout, /^CLAWDINATOR-2\s+ami-0123456789abcdef0\s+1a2b3c4d5e6f\s+NO\s+20m \d+s ago\s+model RateLimitError$/m);
        assert.match(table.stdout, /└ heartbeat stale: last one 20m \d+s ago \(limit 3m 0s\)/);
        assert.match(table.stdout, /^CLAWDINATOR-3\s+-\s+-\s+NO\s+never\s+-$/m);
        assert.match(table.stdout, /└ no status object: the instance never reported/);
        assert.match(table.stdout, /2 of 3 UNHEALTHY/);

        const json = await runCliInProcess(["fleet", "status", "--json", "--bucket", FLEET_BUCKET, "--endpoint-url", s3.endpoint], { cwd: dir, env });
        const data = JSON.parse(json.stdout) as { healthy: boolean; instances: Array<{ instance: string; healthy: boolean; reason: string | null; heartbeatAgeSeconds: number | null }> };
        assert.equal(data.healthy, false);
        const byName = new Map(data.instances.map((i) => [i.instance, i]));
        assert.equal(byName.get("CLAWDINATOR-1")?.healthy, true);
        assert.match(byName.get("CLAWDINATOR-2")?.reason ?? "", /^heartbeat stale/);
        assert.equal(byName.get("CLAWDINATOR-3")?.heartbeatAgeSeconds, null);
        assert.equal(json.code, 1);
      });
    });

    it("without a bucket says where to find it", async () => {
      const result = await runCliInProcess(["fleet", "status"], { env: { AWS_REGION: REGION } });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /pass --bucket .*pulumi stack output bootstrapBucket --stack fleet/);
    });
  });

  describe("fleet wait-healthy (the deploy gate)", () => {
    /** A clock that only moves when the gate sleeps; `onSleep` lets the "instance" act meanwhile. */
    function fakeTime(start: Date, onSleep: (now: Date) => Promise<void> = async () => {}): { now: () => Date; sleep: (ms: number) => Promise<void>; sleeps: number[] } {
      let t = start.getTime();
      const sleeps: number[] = [];
      return {
        sleeps,
        now: () => new Date(t),
        sleep: async (ms) => {
          sleeps.push(ms);
          t += ms;
          await onSleep(new Date(t));
        },
      };
    }

    it("passes once the new boot's gateway connects within the timeout", async () => {
      await withTempDir(async (dir) => {
        const launch = new Date("2026-12-02T06:00:00.000Z");
        const facts = host({ bootedAt: new Date(launch.getTime() + 20_000).toISOString() });
        let polls = 0;
        const time = fakeTime(launch, async (now) => {
          polls += 1;
          if (polls === 2) await healthyInstance(dir, "CLAWDINATOR-4", now, facts);
        });
        const status = await waitHealthy(store, { instance: "CLAWDINATOR-4", timeoutMs: 600_000, bootAfter: launch, instanceId: "i-0123456789abcdef0", now: time.now, sleep: time.sleep });
        assert.equal(status.gateway?.state, "connected");
        assert.equal(time.sleeps.length, 2);
      });
    });

    it("does not count a stale heartbeat, and fails with the instance and that reason", async () => {
      await withTempDir(async (dir) => {
        const launch = new Date("2026-12-02T06:00:00.000Z");
        await healthyInstance(dir, "CLAWDINATOR-5", new Date(launch.getTime() + 30_000), host({ bootedAt: new Date(launch.getTime() + 10_000).toISOString() }));
        const time = fakeTime(new Date(launch.getTime() + 30 * 60_000));
        await assert.rejects(
          waitHealthy(store, { instance: "CLAWDINATOR-5", timeoutMs: 60_000, bootAfter: launch, now: time.now, sleep: time.sleep }),
          (error: unknown) => error instanceof HealthGateError && error.code === "stale" && /^CLAWDINATOR-5 did not report healthy within 1m 0s: heartbeat stale/.test(error.message),
        );
      });
    });

    it("does not count a fresh status from the previous boot (another boot id, booted before launch)", async () => {
      await withTempDir(async (dir) => {
        const launch = new Date("2026-12-02T06:00:00.000Z");
        const previousBoot = host({ bootId: "00000000-0000-0000-0000-previousboot", bootedAt: new Date(launch.getTime() - 3_600_000).toISOString() });
        await healthyInstance(dir, "CLAWDINATOR-6", new Date(launch.getTime() + 5_000), previousBoot);
        const time = fakeTime(new Date(launch.getTime() + 10_000));
        await assert.rejects(
          waitHealthy(store, { instance: "CLAWDINATOR-6", timeoutMs: 30_000, bootAfter: launch, now: time.now, sleep: time.sleep }),
          (error: unknown) => error instanceof HealthGateError && error.code === "previous-boot" && /boot 00000000-0000-0000-0000-previousboot .* a previous boot/.test(error.message),
        );
      });
    });

    it("times out naming the reason the instance itself reported (a rejected Discord token)", async () => {
      await withTempDir(async (dir) => {
        const launch = new Date("2026-12-02T06:00:00.000Z");
        const r = await reporter(dir, "CLAWDINATOR-10", () => new Date(launch.getTime() + 60_000), host({ bootedAt: launch.toISOString() }));
        await r.update("boot", { result: "success", detail: null, at: launch.toISOString(), instanceId: "i-0123456789abcdef0", imageId: "ami-0123456789abcdef0" });
        await r.update("gateway", { state: "disconnected", reason: "token-rejected", since: launch.toISOString(), heartbeatAt: launch.toISOString(), transport: "discord" });
        const time = fakeTime(new Date(launch.getTime() + 60_000));
        await assert.rejects(
          waitHealthy(store, { instance: "CLAWDINATOR-10", timeoutMs: 120_000, bootAfter: launch, now: time.now, sleep: time.sleep }),
          (error: unknown) => error instanceof HealthGateError && /CLAWDINATOR-10 did not report healthy within 2m 0s: gateway disconnected: token-rejected/.test(error.message),
        );
        assert.deepEqual(time.sleeps.reduce((a, b) => a + b, 0), 120_000, "slept exactly up to the deadline, never past it");
      });
    });

    it("through the CLI: exit 0 when healthy, exit 1 naming instance and reason when not", async () => {
      await withTempDir(async (dir) => {
        const now = new Date();
        await healthyInstance(path.join(dir, "a"), "CLAWDINATOR-11", now, host({ bootedAt: new Date(now.getTime() - 60_000).toISOString() }));
        const env = { ...s3.env };
        const base = ["--bucket", BUCKET, "--endpoint-url", s3.endpoint, "--timeout", "0"];
        const ok = await runCliInProcess(["fleet", "wait-healthy", "CLAWDINATOR-11", "--boot-after", new Date(now.getTime() - 120_000).toISOString(), ...base], { env });
        assert.equal(ok.code, 0, ok.stderr);
        assert.match(ok.stdout, /^CLAWDINATOR-11 healthy: i-0123456789abcdef0 on ami-0123456789abcdef0/);
        const missing = await runCliInProcess(["fleet", "wait-healthy", "CLAWDINATOR-12", "--boot-after", now.toISOString(), ...base], { env });
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /CLAWDINATOR-12 did not report healthy within 0s: no status object/);
        await mkdir(path.join(dir, "b"));
        const bad = await runCliInProcess(["fleet", "wait-healthy", "clawdinator-1", ...base], { env });
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /name one instance: clawdinator fleet wait-healthy CLAWDINATOR-<n>/);
      });
    });
  });
});
