// The boot service's report: success with the ids from IMDS, failure with the error's code and first
// line (what `fleet status` shows), and a report that cannot be written never fails the boot.
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import pino from "pino";
import type { BootAws } from "../../agent/boot/aws.ts";
import { BootError } from "../../agent/boot/errors.ts";
import { parseBootSettings } from "../../agent/boot/settings.ts";
import { reportBoot } from "../../agent/ops/boot-report.ts";
import { parseStatus, statusKey } from "../../agent/ops/status.ts";
import { MemoryObjectStore } from "../../agent/ops/store.ts";
import { withTempDir } from "../helpers/cli.ts";

const USER_DATA = JSON.stringify({ clawdinator: { bootstrap: "s3://clawdinator-bootstrap-x/bootstrap/CLAWDINATOR-5/" } });

function fakeAws(overrides: Partial<BootAws> = {}): BootAws {
  return {
    userData: async () => USER_DATA,
    region: async () => "eu-central-1",
    getObject: async () => undefined,
    getSecureParameter: async () => "",
    identity: async () => ({ instanceId: "i-0123456789abcdef0", imageId: "ami-0fedcba9876543210" }),
    ...overrides,
  };
}

describe("the boot report", () => {
  it("records success with the instance and image ids, under the instance named by its user data", async () => {
    await withTempDir(async (dir) => {
      const store = new MemoryObjectStore();
      const settings = parseBootSettings({ runDir: dir, owner: { uid: 2000, gid: 2000 } }, "test");
      await reportBoot({ aws: fakeAws(), settings, outcome: { result: "success" }, version: "0.1.0", log: pino({ level: "silent" }), store });
      const status = parseStatus("x", store.objects.get(statusKey("CLAWDINATOR-5")) ?? "");
      assert.equal(status.boot?.result, "success");
      assert.equal(status.instanceId, "i-0123456789abcdef0");
      assert.equal(status.imageId, "ami-0fedcba9876543210");
      assert.equal(status.gateway, null, "the gateway has not reported yet");
      assert.ok(path.isAbsolute(dir));
    });
  });

  it("records a failure by its code and first line", async () => {
    await withTempDir(async (dir) => {
      const store = new MemoryObjectStore();
      const settings = parseBootSettings({ runDir: dir, owner: { uid: 2000, gid: 2000 } }, "test");
      const error = new BootError("MANIFEST_MISSING", "s3://b/k", "no manifest at s3://b/k after 3 tries\nsecond line");
      await reportBoot({ aws: fakeAws(), settings, outcome: { result: "failed", error }, version: "0.1.0", log: pino({ level: "silent" }), store });
      const status = parseStatus("x", store.objects.get(statusKey("CLAWDINATOR-5")) ?? "");
      assert.equal(status.boot?.result, "failed");
      assert.equal(status.boot?.detail, "MANIFEST_MISSING: no manifest at s3://b/k after 3 tries");
    });
  });

  it("never throws: without IMDS it logs and the boot goes on", async () => {
    await withTempDir(async (dir) => {
      const settings = parseBootSettings({ runDir: dir, owner: { uid: 2000, gid: 2000 } }, "test");
      const warnings: string[] = [];
      const log = pino({ level: "warn" }, { write: (line: string) => void warnings.push(line) });
      await reportBoot({
        aws: fakeAws({ userData: async () => Promise.reject(new Error("IMDS down")) }),
        settings,
        outcome: { result: "success" },
        version: "0.1.0",
        log,
        store: new MemoryObjectStore(),
      });
      assert.match(warnings.join(""), /could not publish the boot status/);
    });
  });
});
