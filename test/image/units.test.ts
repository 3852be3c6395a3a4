// The pipeline's pure parts, tested directly.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { locateImage } from "../../providers/nixos-ami/build.ts";
import { linearAggregate } from "../../providers/nixos-ami/ebs-direct.ts";
import { identityDigest } from "../../providers/nixos-ami/identity.ts";
import { DEFAULT_TUNING, DEFAULTS, normalizeInputs, timeoutMinutes, UNKNOWN } from "../../providers/nixos-ami/inputs.ts";
import { pollUntil } from "../../providers/nixos-ami/poll.ts";
import { lineReporter } from "../../providers/nixos-ami/progress.ts";
import { imagesToPrune } from "../../providers/nixos-ami/retention.ts";
import { importToken } from "../../providers/nixos-ami/vm-import.ts";
import { linearAggregate as fakesAggregate } from "../fakes/ec2/index.ts";

describe("inputs", () => {
  it("fills every default", () => {
    const { inputs, failures } = normalizeInputs({ flake: ".", nixosConfiguration: "c", bucket: "b", region: "r" });
    assert.deepEqual(failures, []);
    assert.equal(inputs.importMethod, DEFAULTS.importMethod);
    assert.equal(inputs.keyPrefix, "images/");
    assert.equal(inputs.namePrefix, "clawdinator-nixos");
    assert.deepEqual(inputs.tuning, DEFAULT_TUNING);
  });

  it("asks for a bucket only where VM Import reads the image from S3", () => {
    assert.deepEqual(normalizeInputs({ flake: ".", nixosConfiguration: "c", region: "r", importMethod: "ebs-direct" }).failures, []);
    const { failures } = normalizeInputs({ flake: ".", nixosConfiguration: "c", region: "r", importMethod: "vm-import" });
    assert.deepEqual(
      failures.map((f) => f.property),
      ["bucket"],
    );
    assert.match(failures[0]?.reason ?? "", /vm-import/);
  });

  it("names the property and the fix", () => {
    const failures = normalizeInputs({
      flake: ".",
      nixosConfiguration: "c",
      imagePath: "/x.raw",
      region: "r",
      importMethod: "vm-import",
      tags: { "clawdinator:identity": "x" },
      endpoints: { ec2: "localhost:1" },
      tuning: { ebsWorkers: 0 },
    }).failures;
    const properties = failures.map((failure) => failure.property).sort();
    assert.deepEqual(properties, ["bucket", "endpoints.ec2", "imagePath", "tags.clawdinator:identity", "tuning.ebsWorkers"]);
    assert.match(failures.find((failure) => failure.property === "imagePath")?.reason ?? "", /not both/);
  });
});

describe("inputs during a preview", () => {
  it("accepts values not known yet (outputs of resources still to be created)", () => {
    const { failures } = normalizeInputs({ flake: ".", nixosConfiguration: "c", bucket: UNKNOWN, region: "r", tags: UNKNOWN, keep: UNKNOWN, vmImportRoleName: UNKNOWN });
    assert.deepEqual(failures, []);
  });
});

describe("custom timeouts", () => {
  it("parses Pulumi's durations", () => {
    assert.equal(timeoutMinutes("40m", 60), 40);
    assert.equal(timeoutMinutes("1h30m", 60), 90);
    assert.equal(timeoutMinutes("90s", 60), 1.5);
    assert.equal(timeoutMinutes(undefined, 60), 60);
    assert.throws(() => timeoutMinutes("soon", 60), /"soon" is not a duration/);
  });
});

describe("identity digest and tokens", () => {
  it("uses the Nix store hash of a store path, a hex digest otherwise", () => {
    assert.equal(identityDigest("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-amazon-image"), "0123456789abcdfghijklmnpqrsvwxyz");
    assert.match(identityDigest("sha256:abc"), /^[0-9a-f]{32}$/);
    assert.notEqual(identityDigest("sha256:abc"), identityDigest("sha256:abd"));
  });

  it("gives each import attempt its own stable token within ImportSnapshot's 64 characters", () => {
    const digest = identityDigest("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x");
    assert.equal(importToken(digest, 0), importToken(digest, 0));
    assert.notEqual(importToken(digest, 0), importToken(digest, 1));
    assert.ok(importToken(digest, 99).length <= 64);
  });
});

describe("LINEAR aggregate checksum", () => {
  it("agrees with the fake's independent implementation, and depends on block order", () => {
    const digests = new Map([5, 1, 3].map((index) => [index, createHash("sha256").update(`block ${index}`).digest()] as const));
    assert.equal(linearAggregate(digests), fakesAggregate(digests));
    const ordered = createHash("sha256");
    for (const index of [1, 3, 5]) ordered.update(digests.get(index) as Buffer);
    assert.equal(linearAggregate(digests), ordered.digest("base64"));
  });
});

describe("retention choice", () => {
  const image = (amiId: string) => ({ amiId, snapshotId: "", name: amiId, creationDate: "", state: "available", tags: new Map<string, string>() });
  it("keeps the newest `keep` besides the protected ones", () => {
    const newestFirst = ["ami-5", "ami-4", "ami-3", "ami-2", "ami-1"].map(image);
    assert.deepEqual(imagesToPrune(newestFirst, 2, new Set(["ami-5"])).map((i) => i.amiId), ["ami-2", "ami-1"]);
    assert.deepEqual(imagesToPrune(newestFirst, 10, new Set(["ami-5"])), []);
    assert.deepEqual(imagesToPrune(newestFirst, 1, new Set(["ami-4", "ami-2"])).map((i) => i.amiId), ["ami-3", "ami-1"]);
  });

  it("never the newest image, whatever keep and the current image say", () => {
    const newestFirst = ["ami-5", "ami-4", "ami-3", "ami-2", "ami-1"].map(image);
    // The stack rolled back to ami-3: the newer ami-5 (maybe another stack's) stays too.
    assert.deepEqual(imagesToPrune(newestFirst, 0, new Set(["ami-3"])).map((i) => i.amiId), ["ami-4", "ami-2", "ami-1"]);
    assert.deepEqual(imagesToPrune(newestFirst, 0).map((i) => i.amiId), ["ami-4", "ami-3", "ami-2", "ami-1"]);
    assert.deepEqual(imagesToPrune([image("ami-1")], 0), []);
  });
});

describe("polling", () => {
  it("checks until there is a value; a deadline that the next wait would pass ends it with the caller's error", async () => {
    let checks = 0;
    const value = await pollUntil(async () => (++checks === 3 ? "done" : undefined), () => new Error("late"), { deadline: Date.now() + 60_000, initialMs: 1, maxMs: 2, growth: 2 });
    assert.deepEqual([value, checks], ["done", 3]);
    checks = 0;
    await assert.rejects(pollUntil(async () => void checks++, () => new Error("late"), { deadline: Date.now() - 1, initialMs: 1, maxMs: 1, growth: 1 }), /late/);
    assert.equal(checks, 1, "one check, then no sleep past the deadline");
  });
});

describe("progress lines", () => {
  it("prints a percentage only when its tens figure moves", () => {
    const lines: string[] = [];
    const report = lineReporter((line) => lines.push(line));
    for (const percent of [0, 3, 9, 10, 15, 27, 100]) report({ step: "import", message: "converting", percent });
    report({ step: "register", message: "ami-1 available" });
    assert.deepEqual(lines, [
      "nixos-ami: import 0% converting",
      "nixos-ami: import 10% converting",
      "nixos-ami: import 27% converting",
      "nixos-ami: import 100% converting",
      "nixos-ami: register: ami-1 available",
    ]);
  });
});

describe("locating the disk image in a build output", () => {
  it("follows nix-support/image-info.json, or takes the one disk image", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "locate-"));
    try {
      await mkdir(path.join(dir, "a/nix-support"), { recursive: true });
      await writeFile(path.join(dir, "a/disk.vhd"), "x");
      await writeFile(path.join(dir, "a/nix-support/image-info.json"), JSON.stringify({ disks: { root: { file: path.join(dir, "a/disk.vhd") } } }));
      assert.equal((await locateImage(path.join(dir, "a"))).format, "vhd");
      await mkdir(path.join(dir, "b"));
      await writeFile(path.join(dir, "b/nixos.img"), "xy");
      const found = await locateImage(path.join(dir, "b"));
      assert.deepEqual([found.format, found.sizeBytes, path.basename(found.filePath)], ["raw", 2, "nixos.img"]);
      await mkdir(path.join(dir, "c"));
      await assert.rejects(locateImage(path.join(dir, "c")), { code: "IMAGE_NOT_FOUND" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
