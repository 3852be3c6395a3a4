// The in-place lane's decisions with the host injected: a healthy switch; an unhealthy one rolled
// back; a switch command that fails; a host already current; two runs racing; a known-bad release
// never retried. Plus the real command lines (nix, nix-env, switch-to-configuration) through a
// recording runner, the gateway-health wait over the real status sections, and the command line
// reading the pin from the bucket (s3rver).
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import type { Verdict } from "../../agent/ops/health.ts";
import { gatewayHealth, ReleaseSchema, selfUpdate, systemCommands, type Release, type SelfUpdateSystem } from "../../agent/ops/self-update.ts";
import { StatusReporter, type UpdateSection } from "../../agent/ops/status.ts";
import { MemoryObjectStore } from "../../agent/ops/store.ts";
import { runCliInProcess, withTempDir } from "../helpers/cli.ts";
import { startTempS3 } from "../helpers/s3.ts";

const BUCKET = "clawdinators-bootstrap";

const OLD = "/nix/store/0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-clawdinator-25.11.1";
const NEW = "/nix/store/1bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-nixos-system-clawdinator-25.11.2";
const RELEASE: Release = { version: 1, flake: `github:example/clawdinators/${"c".repeat(40)}`, nixosConfiguration: "clawdinator", systemPath: NEW };

/** A host that records what it was asked to do, with the health the test decides. */
class FakeHost implements SelfUpdateSystem {
  current = OLD;
  readonly calls: string[] = [];
  release: Release | undefined = RELEASE;
  health: Verdict = { healthy: true };
  failActivate: string | undefined;
  realiseGate: Promise<void> = Promise.resolve();

  async readRelease(): Promise<Release | undefined> {
    return this.release;
  }
  async currentSystem(): Promise<string> {
    return this.current;
  }
  async realise(release: Release): Promise<string> {
    this.calls.push(`realise ${release.systemPath ?? release.flake}`);
    await this.realiseGate;
    return release.systemPath ?? NEW;
  }
  async activate(systemPath: string): Promise<void> {
    this.calls.push(`activate ${systemPath}`);
    if (this.failActivate === systemPath) throw new Error("switch-to-configuration failed: clawdinator.service: start request repeated too quickly\nmore");
    this.current = systemPath;
  }
  async waitHealthy(): Promise<Verdict> {
    this.calls.push("wait-healthy");
    return this.health;
  }
}

function run(host: FakeHost, stateDir: string, reports: UpdateSection[]): ReturnType<typeof selfUpdate> {
  return selfUpdate({
    system: host,
    report: async (section) => void reports.push(section),
    stateDir,
    healthTimeoutMs: 300_000,
    instance: "CLAWDINATOR-1",
    now: () => new Date("2026-12-02T06:00:00.000Z"),
  });
}

describe("self-update decisions", () => {
  it("a healthy switch: realise, activate, wait for health, report switched", async () => {
    await withTempDir(async (dir) => {
      const host = new FakeHost();
      const reports: UpdateSection[] = [];
      const outcome = await run(host, dir, reports);
      assert.deepEqual(outcome, { result: "switched", release: NEW, systemPath: NEW });
      assert.deepEqual(host.calls, [`realise ${NEW}`, `activate ${NEW}`, "wait-healthy"]);
      assert.deepEqual(reports.map((r) => r.result), ["switched"]);
      assert.equal(host.current, NEW);
    });
  });

  it("unhealthy after the switch: switches back to the previous system, reports why, remembers the release as bad", async () => {
    await withTempDir(async (dir) => {
      const host = new FakeHost();
      host.health = { healthy: false, code: "gateway-down", reason: "gateway disconnected: token-rejected" };
      const reports: UpdateSection[] = [];
      const outcome = await run(host, dir, reports);
      assert.equal(outcome.result, "rolled-back");
      assert.deepEqual(host.calls, [`realise ${NEW}`, `activate ${NEW}`, "wait-healthy", `activate ${OLD}`]);
      assert.equal(host.current, OLD);
      assert.equal(reports[0]?.result, "rolled-back");
      assert.match(reports[0]?.detail ?? "", /not healthy after the switch \(gateway disconnected: token-rejected\); rolled back to \/nix\/store\/0a/);
      const state = JSON.parse(await readFile(path.join(dir, "state.json"), "utf8")) as { knownBad: Array<{ release: string }> };
      assert.deepEqual(state.knownBad.map((b) => b.release), [NEW]);
    });
  });

  it("the switch command fails: switches back, reports switch-failed with the command's first line, marks it bad", async () => {
    await withTempDir(async (dir) => {
      const host = new FakeHost();
      host.failActivate = NEW;
      const reports: UpdateSection[] = [];
      const outcome = await run(host, dir, reports);
      assert.equal(outcome.result, "switch-failed");
      assert.deepEqual(host.calls, [`realise ${NEW}`, `activate ${NEW}`, `activate ${OLD}`], "no health wait after a failed switch");
      assert.equal(host.current, OLD);
      assert.match(reports[0]?.detail ?? "", /^switch failed \(switch-to-configuration failed: clawdinator.service: start request repeated too quickly\); rolled back to /);
    });
  });

  it("already current: does nothing, reports nothing (by expected path, and by what the flake builds)", async () => {
    await withTempDir(async (dir) => {
      const host = new FakeHost();
      host.current = NEW;
      const reports: UpdateSection[] = [];
      assert.deepEqual(await run(host, dir, reports), { result: "current", release: NEW });
      assert.deepEqual(host.calls, []);
      const flakeOnly = new FakeHost();
      flakeOnly.current = NEW;
      flakeOnly.release = { ...RELEASE, systemPath: null };
      assert.equal((await run(flakeOnly, path.join(dir, "b"), reports)).result, "current");
      assert.deepEqual(flakeOnly.calls, [`realise ${RELEASE.flake}`], "built (a no-op when cached), never activated");
      assert.deepEqual(reports, []);
    });
  });

  it("no release pinned: nothing to do", async () => {
    await withTempDir(async (dir) => {
      const host = new FakeHost();
      host.release = undefined;
      assert.deepEqual(await run(host, dir, []), { result: "no-release" });
      assert.deepEqual(host.calls, []);
    });
  });

  it("two runs racing (timer and manual): one switches, the other finds the lock held and does nothing", async () => {
    await withTempDir(async (dir) => {
      const host = new FakeHost();
      let release!: () => void;
      host.realiseGate = new Promise((resolve) => (release = resolve));
      const reports: UpdateSection[] = [];
      const first = run(host, dir, reports);
      // The second starts while the first is inside realise (holding the lock).
      while (host.calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
      const second = await run(host, dir, reports);
      release();
      const outcomes = [await first, second];
      assert.deepEqual(outcomes.map((o) => o.result), ["switched", "busy"]);
      assert.match(second.result === "busy" ? second.detail : "", /a self-update is already running \(pid \d+ on .+\); this run did nothing/);
      assert.deepEqual(host.calls.filter((c) => c.startsWith("activate")), [`activate ${NEW}`], "activated once");
      // The lock is free again afterwards.
      host.current = OLD;
      assert.equal((await run(host, dir, reports)).result, "switched");
    });
  });

  it("a release already known bad is not retried, and the failure report stays as it was", async () => {
    await withTempDir(async (dir) => {
      const host = new FakeHost();
      host.health = { healthy: false, code: "gateway-down", reason: "gateway disconnected" };
      const reports: UpdateSection[] = [];
      assert.equal((await run(host, dir, reports)).result, "rolled-back");
      host.calls.length = 0;
      host.health = { healthy: true };
      const again = await run(host, dir, reports);
      assert.equal(again.result, "skipped-known-bad");
      assert.match(again.result === "skipped-known-bad" ? again.detail : "", /^known bad since 2026-12-02T06:00:00.000Z: not healthy after the switch/);
      assert.deepEqual(host.calls, [], "not realised, not activated");
      assert.deepEqual(reports.map((r) => r.result), ["rolled-back"]);
      // A new release is tried as usual.
      const newer = "/nix/store/2ccccccccccccccccccccccccccccccc-nixos-system-clawdinator-25.11.3";
      host.release = { ...RELEASE, systemPath: newer };
      assert.equal((await run(host, dir, reports)).result, "switched");
    });
  });

  it("a failed realise is reported but not marked bad: the next run tries again", async () => {
    await withTempDir(async (dir) => {
      const host = new FakeHost();
      host.realise = async () => {
        throw new Error("error: unable to download 'https://cache.nixos.org/…': HTTP error 503");
      };
      const reports: UpdateSection[] = [];
      assert.equal((await run(host, dir, reports)).result, "realise-failed");
      assert.match(reports[0]?.detail ?? "", /could not realise it: error: unable to download/);
      await assert.rejects(readFile(path.join(dir, "state.json")));
    });
  });
});

describe("the release pin", () => {
  it("accepts only a flake ref pinned to a full revision (no host-local resolution of a branch)", () => {
    assert.ok(ReleaseSchema.safeParse(RELEASE).success);
    assert.ok(ReleaseSchema.safeParse({ ...RELEASE, flake: `git+https://github.com/example/clawdinators?rev=${"a".repeat(40)}`, systemPath: null }).success);
    for (const flake of ["github:example/clawdinators", "github:example/clawdinators/main", `github:example/clawdinators/${"a".repeat(39)}`]) {
      assert.equal(ReleaseSchema.safeParse({ ...RELEASE, flake }).success, false, flake);
    }
  });
});

describe("the host's commands", () => {
  it("realise fetches the pinned path, or builds the pinned flake without touching its lock file; activate sets the profile and switches", async () => {
    const calls: string[][] = [];
    const commands = systemCommands(async (command, args) => {
      calls.push([command, ...args]);
      return args.includes("--print-out-paths") ? `${args.at(-1)?.startsWith("/nix/store/") ? args.at(-1) : NEW}\n` : "";
    });
    assert.equal(await commands.realise(RELEASE), NEW);
    assert.equal(await commands.realise({ ...RELEASE, systemPath: null }), NEW);
    await commands.activate(NEW);
    assert.deepEqual(calls, [
      ["nix", "--extra-experimental-features", "nix-command flakes", "build", "--no-link", "--print-out-paths", NEW],
      [
        "nix",
        "--extra-experimental-features",
        "nix-command flakes",
        "build",
        "--no-link",
        "--print-out-paths",
        "--no-update-lock-file",
        "--no-write-lock-file",
        `${RELEASE.flake}#nixosConfigurations.clawdinator.config.system.build.toplevel`,
      ],
      ["nix-env", "--profile", "/nix/var/nix/profiles/system", "--set", NEW],
      [`${NEW}/bin/switch-to-configuration`, "switch"],
    ]);
    assert.ok(!calls.flat().some((a) => /flake update|--update-input|--recreate-lock-file/.test(a)), "never a host-local flake update");
  });

  it("refuses a build whose output is not the pinned path", async () => {
    const commands = systemCommands(async () => `${OLD}\n`);
    await assert.rejects(commands.realise(RELEASE), /nix built \/nix\/store\/0a.*, not the pinned/);
  });

  it("the health wait counts only a connected gateway report written after the switch", async () => {
    await withTempDir(async (dir) => {
      let t = Date.parse("2026-12-02T06:00:00.000Z");
      const reporter = new StatusReporter({ instance: "CLAWDINATOR-1", agentVersion: "0.1.0", factsDir: dir, store: new MemoryObjectStore(), secrets: [], hostFacts: async () => ({ bootId: null, bootedAt: null, systemPath: null, configurationRevision: null }) });
      const at = (): string => new Date(t).toISOString();
      await reporter.update("gateway", { state: "connected", reason: null, since: at(), heartbeatAt: at(), transport: "discord" });
      const since = new Date(t);
      let sleeps = 0;
      const wait = gatewayHealth(() => reporter.section("gateway"), {
        now: () => new Date(t),
        pollMs: 10_000,
        sleep: async (ms) => {
          t += ms;
          sleeps += 1;
          // The restarted gateway reports starting, then connected.
          if (sleeps === 1) await reporter.update("gateway", { state: "starting", reason: null, since: at(), heartbeatAt: at(), transport: "discord" });
          if (sleeps === 3) await reporter.update("gateway", { state: "connected", reason: null, since: at(), heartbeatAt: at(), transport: "discord" });
        },
      });
      assert.deepEqual(await wait(since, 300_000), { healthy: true });
      assert.equal(sleeps, 3, "the connected report from before the switch did not count");
      const never = await wait(new Date(t + 1), 30_000);
      assert.equal(never.healthy, false);
    });
  });
});

describe("clawdinator self-update (the command line)", () => {
  it("reads the fleet's pin from the status bucket with the credentials in the environment it is given", async () => {
    const s3 = await startTempS3([BUCKET]);
    try {
      await withTempDir(async (dir) => {
        const config = path.join(dir, "config.json");
        await writeFile(config, JSON.stringify({ memoryDir: "memory", status: { bucket: BUCKET, region: "eu-central-1", endpoint: s3.endpoint, factsDir: "facts" } }));
        // Nothing pinned yet: the command asks the bucket, finds no release, and does nothing.
        const result = await runCliInProcess(["self-update", "--config", config, "--state-dir", path.join(dir, "state")], { env: s3.env });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, "CLAWDINATOR-1 self-update no-release\n");
        assert.ok(
          s3.requests.some((r) => r.method === "GET" && r.url.startsWith(`/${BUCKET}/release/current.json`)),
          "the pin was read from the bucket",
        );
      });
    } finally {
      await s3.close();
    }
  });
});
