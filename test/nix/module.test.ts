// services.clawdinator, evaluated with lib.evalModules: the generated units and their hardening,
// the credentials, the EFS mount, every assertion with its message, and the JSON it writes for the
// agent and for `clawdinator boot`, checked with their own schemas so the module cannot drift from them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBootSettings } from "../../agent/boot/settings.ts";
import { parseConfig } from "../../agent/config/load.ts";
import { evalNix, nixTools } from "./harness.ts";

interface Unit {
  description: string;
  wantedBy?: string[];
  after?: string[];
  before?: string[];
  requires?: string[];
  environment?: Record<string, string>;
  path?: string[];
  unitConfig?: Record<string, unknown>;
  serviceConfig: Record<string, unknown>;
}
interface Evaluated {
  failedAssertions: string[];
  warnings: string[];
  userNamespaces: unknown;
  result: null | {
    services: Record<string, Unit & { restartIfChanged?: boolean; stopIfChanged?: boolean; path?: string[] }>;
    timers: Record<string, { wantedBy: string[]; timerConfig: Record<string, string> }>;
    releaseFile: string;
    tmpfiles: string[];
    users: Record<string, { uid: number; isSystemUser: boolean; group: string }>;
    groups: Record<string, { gid: number }>;
    fileSystems: Record<string, { device: string; fsType: string; options: string[] }>;
    fsPackages: string[];
    agentConfig: Record<string, unknown>;
    bootSettings: Record<string, unknown> | null;
  };
}

async function evaluate(t: Parameters<typeof nixTools>[0], settings: Record<string, unknown>): Promise<Evaluated | undefined> {
  const nix = nixTools(t);
  if (!nix) return undefined;
  return evalNix<Evaluated>(nix, "eval-module.nix", { settingsJson: JSON.stringify({ enable: true, ...settings }) });
}

const FLEET = { bootstrap: { enable: true }, memoryEfs: { enable: true }, openaiApiKeyFile: "/run/agenix/openai-api-key" };

describe("services.clawdinator", () => {
  it("runs the gateway from the package's bin as its own user, with the full hardening baseline", async (t) => {
    const evaluated = await evaluate(t, { instanceName: "CLAWDINATOR-2" });
    if (!evaluated) return;
    assert.deepEqual(evaluated.failedAssertions, []);
    const unit = evaluated.result?.services.clawdinator;
    assert.ok(unit);
    const s = unit.serviceConfig;
    assert.equal(s.ExecStart, "/nix/store/00000000000000000000000000000000-clawdinator-0.1.0/bin/clawdinator run --config /etc/clawdinator/config.json");
    assert.equal(s.User, "clawdinator");
    assert.equal(s.Group, "clawdinator");
    const expected: Record<string, unknown> = {
      ProtectSystem: "strict",
      ProtectHome: true,
      PrivateTmp: true,
      PrivateDevices: true,
      NoNewPrivileges: true,
      CapabilityBoundingSet: "",
      AmbientCapabilities: "",
      RestrictNamespaces: true,
      RestrictSUIDSGID: true,
      ProtectKernelTunables: true,
      ProtectKernelModules: true,
      ProtectControlGroups: true,
      LockPersonality: true,
      MemoryDenyWriteExecute: false,
      UMask: "0077",
      Restart: "on-failure",
    };
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(s[key], value, `${key}`);
    assert.deepEqual(s.SystemCallFilter, ["@system-service", "~@privileged", "~@resources"]);
    assert.deepEqual(s.RestrictAddressFamilies, ["AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"]);
    assert.deepEqual(s.ReadWritePaths, ["/var/lib/clawdinator", "/var/lib/clawdinator/memory", "-/run/clawdinator/status"], "state, memory and its health report's section");
    assert.deepEqual(s.InaccessiblePaths, ["-/run/agenix"], "the gateway sees secrets only through its credentials");
    assert.ok(typeof s.RestartSec === "string" && typeof s.RestartSteps === "number" && typeof s.RestartMaxDelaySec === "string", "restarts back off");
    assert.equal(unit.environment?.NODE_OPTIONS, "--max-old-space-size=128");
    assert.equal(s.MemoryMax, "512M");
    assert.deepEqual(evaluated.result?.users.clawdinator, { description: "CLAWDINATOR agent", group: "clawdinator", home: "/var/lib/clawdinator", isSystemUser: true, uid: 2000 });
    assert.equal(evaluated.result?.groups.clawdinator?.gid, 2000);
  });

  it("loads one credential per configured secret and points the agent's config at it", async (t) => {
    const evaluated = await evaluate(t, {
      instanceName: "CLAWDINATOR-1",
      openaiApiKeyFile: "/run/agenix/openai-api-key",
      githubApp: { enable: true, appId: 123456, installationId: 7654321 },
    });
    if (!evaluated?.result) return assert.ok(evaluated === undefined, `assertions failed: ${evaluated?.failedAssertions.join("; ")}`);
    assert.deepEqual(evaluated.result.services.clawdinator?.serviceConfig.LoadCredential, [
      "discord-token:/run/agenix/discord-token",
      "anthropic-api-key:/run/agenix/anthropic-api-key",
      "openai-api-key:/run/agenix/openai-api-key",
      "github-app-key:/run/agenix/github-app-key",
    ]);
    const config = parseConfig(evaluated.result.agentConfig, "module");
    assert.equal(config.discordTokenFile, "/run/credentials/clawdinator.service/discord-token");
    assert.equal(config.openaiApiKeyFile, "/run/credentials/clawdinator.service/openai-api-key");
    assert.deepEqual(config.githubApp, { appId: 123456, installationId: 7654321, privateKeyFile: "/run/credentials/clawdinator.service/github-app-key" });
    assert.equal(config.secretsFromEnv, false);
  });

  it("writes a config.json the agent's own schema accepts, with the user's freeform settings", async (t) => {
    const evaluated = await evaluate(t, {
      instanceName: "CLAWDINATOR-3",
      discordTokenFile: null,
      config: {
        logLevel: "debug",
        discord: { guilds: { "1456350064065904867": { channels: { "clawdributors-test": { allow: true, requireMention: true } } } } },
        access: { maintainers: { roles: ["234567890123456789"] } },
      },
    });
    if (!evaluated?.result) return assert.ok(evaluated === undefined);
    const config = parseConfig(evaluated.result.agentConfig, "module");
    assert.equal(config.instance, "CLAWDINATOR-3");
    assert.equal(config.logLevel, "debug");
    assert.equal(config.memoryDir, "/var/lib/clawdinator/memory");
    assert.equal(config.discordTokenFile, undefined, "a null secret option leaves the integration offline");
    assert.deepEqual(config.access.maintainers.roles, ["234567890123456789"]);
    assert.deepEqual(evaluated.result.services.clawdinator?.serviceConfig.LoadCredential, ["anthropic-api-key:/run/agenix/anthropic-api-key"]);
  });

  it("orders a hardened, retried, idempotent boot service before the gateway on the fleet image", async (t) => {
    const evaluated = await evaluate(t, FLEET);
    if (!evaluated?.result) return assert.ok(evaluated === undefined, evaluated?.failedAssertions.join("; "));
    const { services } = evaluated.result;
    const boot = services["clawdinator-boot"];
    const gateway = services.clawdinator;
    assert.ok(boot && gateway);
    assert.equal(boot.serviceConfig.Type, "oneshot");
    assert.equal(boot.serviceConfig.RemainAfterExit, true);
    assert.equal(boot.serviceConfig.ExecStart, "/nix/store/00000000000000000000000000000000-clawdinator-0.1.0/bin/clawdinator boot --settings /etc/clawdinator/boot-settings.json");
    assert.equal(boot.serviceConfig.Restart, "on-failure");
    assert.equal(boot.serviceConfig.RestartMaxDelaySec, "2min");
    assert.equal(boot.serviceConfig.NoNewPrivileges, true);
    assert.equal(boot.serviceConfig.ProtectSystem, undefined, "its mount must land in the host's mount namespace");
    assert.deepEqual(boot.before, ["clawdinator.service"]);
    assert.deepEqual(boot.unitConfig?.OnSuccess, ["clawdinator.service"]);
    assert.ok(gateway.after?.includes("clawdinator-boot.service"));
    assert.deepEqual(gateway.requires, ["clawdinator-boot.service"]);
    assert.match(String(gateway.serviceConfig.ExecStart), / run --config \/run\/clawdinator\/config\.json$/);
    assert.ok(evaluated.result.tmpfiles.includes("d /run/agenix 0711 root root -"));
    assert.ok(evaluated.result.fsPackages.includes("efs-utils"));
    assert.deepEqual(evaluated.result.fileSystems, {}, "the fleet's EFS is mounted by boot from the bundle, not baked into the image");

    // What the module tells boot is what boot accepts.
    const settings = parseBootSettings(evaluated.result.bootSettings, "module");
    assert.equal(settings.memory.efs, "bundle");
    assert.equal(settings.baseConfig, "/etc/clawdinator/config.json");
    assert.equal(settings.runDir, "/run/clawdinator");
    assert.deepEqual(settings.owner, { uid: 2000, gid: 2000 });
    assert.equal(settings.mountCommand, "/nix/store/00000000000000000000000000000000-util-linux/bin/mount");
    assert.deepEqual(
      settings.credentials.map((c) => `${c.name} ${c.configKey} ${c.path}`),
      [
        "discord-token discordTokenFile /run/credentials/clawdinator.service/discord-token",
        "anthropic-api-key anthropicApiKeyFile /run/credentials/clawdinator.service/anthropic-api-key",
        "openai-api-key openaiApiKeyFile /run/credentials/clawdinator.service/openai-api-key",
      ],
    );
    // The image's base config has no instance name: the bundle brings it.
    assert.equal(evaluated.result.agentConfig.instance, undefined);
  });

  it("wires the self-update timer and service: root, never restarted by its own switch, the health timeout passed through", async (t) => {
    const evaluated = await evaluate(t, { ...FLEET, selfUpdate: { enable: true, interval: "1h", healthTimeout: "10m" } });
    if (!evaluated?.result) return assert.ok(evaluated === undefined, evaluated?.failedAssertions.join("; "));
    const service = evaluated.result.services["clawdinator-self-update"];
    const timer = evaluated.result.timers["clawdinator-self-update"];
    assert.ok(service && timer);
    assert.equal(service.serviceConfig.Type, "oneshot");
    assert.equal(
      service.serviceConfig.ExecStart,
      "/nix/store/00000000000000000000000000000000-clawdinator-0.1.0/bin/clawdinator self-update --config /run/clawdinator/config.json --state-dir /var/lib/clawdinator-self-update --health-timeout 10m",
    );
    assert.equal(service.serviceConfig.User, undefined, "root: it sets the system profile");
    assert.equal(service.restartIfChanged, false, "switch-to-configuration must not restart the unit running it");
    assert.equal(service.stopIfChanged, false);
    assert.deepEqual(service.path, ["/nix/store/00000000000000000000000000000000-nix-2.31"]);
    assert.ok(service.after?.includes("clawdinator-boot.service"));
    assert.deepEqual(timer.wantedBy, ["timers.target"]);
    assert.deepEqual(timer.timerConfig, { OnBootSec: "15min", OnUnitActiveSec: "1h", RandomizedDelaySec: "5min" });
    assert.ok(evaluated.result.tmpfiles.includes("d /run/clawdinator/status 0750 clawdinator clawdinator -"));
    assert.deepEqual(JSON.parse(evaluated.result.releaseFile), { configurationRevision: null });
    // Off by default.
    const off = await evaluate(t, FLEET);
    assert.equal(off?.result?.services["clawdinator-self-update"], undefined);
    assert.equal(off?.result?.timers["clawdinator-self-update"], undefined);
  });

  it("refuses self-update without the bootstrap bundle, saying why", async (t) => {
    const evaluated = await evaluate(t, { instanceName: "CLAWDINATOR-1", selfUpdate: { enable: true } });
    if (!evaluated) return;
    assert.deepEqual(evaluated.failedAssertions, [
      "services.clawdinator.selfUpdate.enable needs services.clawdinator.bootstrap.enable: the release pin and the health report live in the bootstrap bucket the bundle names.",
    ]);
  });

  it("mounts a fixed EFS with NixOS: NFS over TLS, IAM, through the access point, _netdev", async (t) => {
    const evaluated = await evaluate(t, {
      instanceName: "CLAWDINATOR-1",
      memoryEfs: { enable: true, fileSystemId: "fs-0123456789abcdef0", accessPointId: "fsap-0123456789abcdef0", region: "eu-central-1" },
    });
    if (!evaluated?.result) return assert.ok(evaluated === undefined, evaluated?.failedAssertions.join("; "));
    assert.deepEqual(evaluated.result.fileSystems["/var/lib/clawdinator/memory"], {
      device: "fs-0123456789abcdef0:/",
      fsType: "efs",
      options: ["_netdev", "tls", "iam", "accesspoint=fsap-0123456789abcdef0", "nofail", "region=eu-central-1"],
    });
  });

  it("gives the gateway exactly what bubblewrap needs for the coding sandbox, and no more", async (t) => {
    const evaluated = await evaluate(t, { instanceName: "CLAWDINATOR-1", openaiApiKeyFile: "/run/agenix/openai-api-key", sandbox: { enable: true } });
    if (!evaluated?.result) return assert.ok(evaluated === undefined, evaluated?.failedAssertions.join("; "));
    assert.deepEqual(evaluated.warnings, []);
    const unit = evaluated.result.services.clawdinator;
    assert.ok(unit);
    const s = unit.serviceConfig;
    assert.deepEqual(s.RestrictNamespaces, ["user", "mnt", "pid", "net", "ipc", "uts", "cgroup"]);
    assert.deepEqual(s.SystemCallFilter, ["@system-service", "@mount"]);
    assert.equal(s.TasksMax, 512);
    assert.equal(s.MemoryMax, "3G", "the sandboxes count against the gateway's memory");
    // The rest of the baseline holds.
    for (const key of ["NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelModules"]) assert.equal(s[key], true, key);
    assert.equal(s.CapabilityBoundingSet, "");
    assert.equal(s.ProtectSystem, "strict");
    assert.ok(unit.path?.some((p) => p.endsWith("-bubblewrap")));
    assert.equal(evaluated.userNamespaces, true);
    const config = parseConfig(evaluated.result.agentConfig, "module");
    assert.equal(config.coding.workDir, "/var/lib/clawdinator/tasks");
    assert.equal(config.coding.sandbox.bwrap, "/nix/store/00000000000000000000000000000000-bubblewrap/bin/bwrap");
  });

  it("warns when the coding model has a key but the sandbox is off", async (t) => {
    const evaluated = await evaluate(t, { instanceName: "CLAWDINATOR-1", openaiApiKeyFile: "/run/agenix/openai-api-key" });
    if (!evaluated) return;
    assert.equal(evaluated.warnings.length, 1);
    assert.match(evaluated.warnings[0] ?? "", /sandbox\.enable is false.*Set services\.clawdinator\.sandbox\.enable = true/);
    assert.equal(evaluated.result?.services.clawdinator?.serviceConfig.RestrictNamespaces, true);
  });

  const refusals: Array<[string, Record<string, unknown>, RegExp]> = [
    ["an instance without a name", {}, /instanceName must be set .*bootstrap\.enable/],
    ["githubApp without its ids", { instanceName: "CLAWDINATOR-1", githubApp: { enable: true } }, /githubApp\.enable needs githubApp\.appId and githubApp\.installationId/],
    ["memoryEfs without a file system", { instanceName: "CLAWDINATOR-1", memoryEfs: { enable: true } }, /memoryEfs\.enable needs a file system: set memoryEfs\.fileSystemId/],
    ["a file system without its access point", { instanceName: "CLAWDINATOR-1", memoryEfs: { enable: true, fileSystemId: "fs-0123456789abcdef0" } }, /admits only its access point; set accessPointId/],
    ["a secret in the Nix store", { instanceName: "CLAWDINATOR-1", discordTokenFile: "/nix/store/abcd-discord-token" }, /discordTokenFile points into the Nix store .*every user can read/],
    ["a relative secret path", { instanceName: "CLAWDINATOR-1", anthropicApiKeyFile: "secrets/anthropic" }, /anthropicApiKeyFile must be an absolute path/],
    ["a GitHub key in the store", { instanceName: "CLAWDINATOR-1", githubApp: { enable: true, appId: 1, installationId: 2, privateKeyFile: "/nix/store/x-key.pem" } }, /githubApp\.privateKeyFile points into the Nix store/],
    ["a secret inline in config", { instanceName: "CLAWDINATOR-1", config: { anthropicApiKey: "sk-ant-x" } }, /config\.anthropicApiKey holds a secret inline.*anthropicApiKeyFile/],
  ];
  for (const [what, settings, message] of refusals) {
    it(`refuses ${what}, saying how to fix it`, async (t) => {
      const evaluated = await evaluate(t, settings);
      if (!evaluated) return;
      assert.equal(evaluated.result, null);
      assert.equal(evaluated.failedAssertions.length, 1, evaluated.failedAssertions.join("\n"));
      assert.match(evaluated.failedAssertions[0] ?? "", message);
    });
  }
});
