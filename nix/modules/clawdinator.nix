# services.clawdinator: the CLAWDINATOR agent (the `clawdinator run` gateway) and, on the fleet
# image, its boot service (`clawdinator boot`), which fetches the instance's bootstrap bundle,
# decrypts its secrets and mounts the hive mind. The logic lives in tested TypeScript
# (agent/boot/, agent/main.ts); this module only declares options, files and units.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.clawdinator;
  json = pkgs.formats.json { };

  # The unit's systemd credentials directory: where the gateway reads each secret.
  credentialsDir = "/run/credentials/clawdinator.service";

  # Secret name (the bundle's secrets/<name>.age, the LoadCredential id) -> agent config key and
  # where the file is at rest on the host. Only the non-null ones are loaded.
  secrets = lib.filter (s: s.file != null) [
    {
      name = "discord-token";
      configKey = "discordTokenFile";
      option = "discordTokenFile";
      file = cfg.discordTokenFile;
    }
    {
      name = "anthropic-api-key";
      configKey = "anthropicApiKeyFile";
      option = "anthropicApiKeyFile";
      file = cfg.anthropicApiKeyFile;
    }
    {
      name = "openai-api-key";
      configKey = "openaiApiKeyFile";
      option = "openaiApiKeyFile";
      file = cfg.openaiApiKeyFile;
    }
    {
      name = "github-app-key";
      configKey = "githubApp.privateKeyFile";
      option = "githubApp.privateKeyFile";
      file = if cfg.githubApp.enable then cfg.githubApp.privateKeyFile else null;
    }
  ];
  credentialPath = name: "${credentialsDir}/${name}";
  # The credential path of the secret behind an agent config key, or null when it is not loaded.
  credentialOf =
    configKey:
    let
      secret = lib.findFirst (s: s.configKey == configKey) null secrets;
    in
    if secret == null then null else credentialPath secret.name;

  # The agent's config.json: the user's freeform `config`, then what the module knows better.
  agentConfig = lib.recursiveUpdate cfg.config (
    lib.filterAttrs (_: v: v != null) {
      instance = cfg.instanceName;
      memoryDir = cfg.memoryEfs.mountPoint;
      secretsFromEnv = false;
      workspaceDir = if cfg.workspace == null then null else "${cfg.workspace}";
      discordTokenFile = credentialOf "discordTokenFile";
      anthropicApiKeyFile = credentialOf "anthropicApiKeyFile";
      openaiApiKeyFile = credentialOf "openaiApiKeyFile";
      coding =
        if cfg.sandbox.enable then
          {
            workDir = "${cfg.stateDir}/tasks";
            sandbox.bwrap = "${pkgs.bubblewrap}/bin/bwrap";
          }
        else
          null;
      githubApp =
        if cfg.githubApp.enable && cfg.githubApp.appId != null && cfg.githubApp.installationId != null then
          {
            inherit (cfg.githubApp) appId installationId;
            privateKeyFile = credentialPath "github-app-key";
          }
        else
          null;
    }
  );
  configFile = json.generate "clawdinator-config.json" agentConfig;

  # Where boot writes the gateway's config.json and repos.json: root's, on tmpfs, read-only to the agent.
  runDir = "/run/clawdinator";
  # The health report's per-boot section files (boot, gateway, self-update), tmpfs.
  statusDir = "${runDir}/status";

  bootSettings = {
    inherit (cfg) stateDir;
    inherit runDir;
    agenixDir = cfg.bootstrap.agenixDir;
    baseConfig = "/etc/clawdinator/config.json";
    credentials = map (s: {
      inherit (s) name configKey;
      path = credentialPath s.name;
    }) secrets;
    owner = {
      uid = cfg.uid;
      gid = cfg.gid;
    };
    memory = {
      inherit (cfg.memoryEfs) mountPoint;
      efs = if cfg.memoryEfs.enable && cfg.memoryEfs.fileSystemId == null then "bundle" else "off";
    } // lib.optionalAttrs (cfg.memoryEfs.region != null) { inherit (cfg.memoryEfs) region; };
    mountCommand = "${pkgs.util-linux}/bin/mount";
    manifestWaitSeconds = cfg.bootstrap.manifestWaitSeconds;
    endpoints = lib.filterAttrs (_: v: v != null) cfg.bootstrap.endpoints;
  };
  bootSettingsFile = json.generate "clawdinator-boot-settings.json" bootSettings;

  # On the fleet image the boot service writes the gateway's config (image config + bundle);
  # elsewhere the gateway reads the module's own.
  gatewayConfigPath = if cfg.bootstrap.enable then "${runDir}/config.json" else "/etc/clawdinator/config.json";

  isStorePath = p: p != null && lib.hasPrefix builtins.storeDir (toString p);
  inlineSecretKeys = lib.filter (k: lib.hasAttrByPath k cfg.config) [
    [ "discordToken" ]
    [ "anthropicApiKey" ]
    [ "openaiApiKey" ]
    [ "githubApp" "privateKey" ]
  ];

  secretFileOption =
    name: default:
    lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      inherit default;
      example = "/run/agenix/${name}";
      description = ''
        File holding the ${name} secret at rest on the host (agenix decrypts it there; on the fleet
        image `clawdinator boot` does). The gateway gets it through systemd `LoadCredential=` as
        `${credentialsDir}/${name}` and never reads this path itself. `null`: the
        integration stays offline. On the fleet image every instance's bundle must ship
        `secrets/${name}.age` while this is set (boot refuses otherwise, naming the secret).
        Never a Nix store path: the store is world-readable.
      '';
    };
in
{
  options.services.clawdinator = {
    enable = lib.mkEnableOption "the CLAWDINATOR maintainer agent (the `clawdinator run` gateway)";

    package = lib.mkPackageOption pkgs "clawdinator" { } // {
      description = "The agent package (the bundled `clawdinator` CLI); the flake's module sets it to its own `packages.<system>.clawdinator`.";
    };

    instanceName = lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "CLAWDINATOR-[1-9][0-9]{0,3}");
      default = null;
      example = "CLAWDINATOR-1";
      description = ''
        The instance's name on Discord, in memory notes and in AWS tags. `null` on the fleet image:
        it arrives with the bootstrap bundle, so one image serves every instance.
      '';
    };

    config = lib.mkOption {
      type = lib.types.submodule { freeformType = json.type; };
      default = { };
      example = lib.literalExpression ''
        {
          discord.guilds."1456350064065904867".channels.clawdributors-test = { allow = true; requireMention = true; };
          access.maintainers.roles = [ "234567890123456789" ];
        }
      '';
      description = ''
        The agent's configuration (README.md, "Configuration"), written as JSON; the agent validates
        it at start and names any bad field. Fleet-wide on the image: each instance's bundle
        `config.json` is laid over it at boot. The module sets `instance`, `memoryDir`,
        `secretsFromEnv = false`, `workspaceDir` and the secret file keys itself. Never put a secret
        here: it would land in the world-readable Nix store; use the `*File` options.
      '';
    };

    discordTokenFile = secretFileOption "discord-token" "/run/agenix/discord-token";
    anthropicApiKeyFile = secretFileOption "anthropic-api-key" "/run/agenix/anthropic-api-key";
    openaiApiKeyFile = secretFileOption "openai-api-key" null;

    githubApp = {
      enable = lib.mkEnableOption "reading GitHub as a GitHub App (read-only installation tokens)";
      appId = lib.mkOption {
        type = lib.types.nullOr lib.types.ints.positive;
        default = null;
        example = 123456;
        description = "The GitHub App's id. `null` on the fleet image: the bundle's config (the stack's `agent.githubApp`) supplies it.";
      };
      installationId = lib.mkOption {
        type = lib.types.nullOr lib.types.ints.positive;
        default = null;
        example = 7654321;
        description = "The App's installation id on the organisation. `null` on the fleet image: the bundle supplies it.";
      };
      privateKeyFile = lib.mkOption {
        type = lib.types.str;
        default = "/run/agenix/github-app-key";
        description = "The App's private key (PEM) at rest on the host; loaded as the credential `github-app-key`. Never a Nix store path.";
      };
    };

    memoryEfs = {
      enable = lib.mkEnableOption "the hive-mind memory on Amazon EFS (NFS 4.1 over TLS, IAM, through an access point)";
      mountPoint = lib.mkOption {
        type = lib.types.str;
        default = "/var/lib/clawdinator/memory";
        description = "Where the hive mind is mounted; the agent's `memoryDir`. Without EFS it is a local folder at the same place.";
      };
      fileSystemId = lib.mkOption {
        type = lib.types.nullOr (lib.types.strMatching "fs-[0-9a-f]{8,40}");
        default = null;
        example = "fs-0123456789abcdef0";
        description = ''
          The EFS file system. Set: mounted by NixOS (`fileSystems`, `_netdev`). `null` with
          `bootstrap.enable`: `clawdinator boot` mounts the one the bundle's boot.json names, so
          the image does not depend on the fleet's ids.
        '';
      };
      accessPointId = lib.mkOption {
        type = lib.types.nullOr (lib.types.strMatching "fsap-[0-9a-f]{8,40}");
        default = null;
        example = "fsap-0123456789abcdef0";
        description = "The access point every instance mounts through (the file system policy admits nothing else). Required with `fileSystemId`.";
      };
      region = lib.mkOption {
        type = lib.types.nullOr lib.types.str;
        default = null;
        example = "eu-central-1";
        description = "Passed to the EFS mount helper as `region=`; `null`: the helper reads the instance's region from its metadata.";
      };
    };

    bootstrap = {
      enable = lib.mkEnableOption ''
        the boot service `clawdinator-boot`: at every boot it reads the user data (IMDSv2), fetches
        the instance's bootstrap bundle from S3 and checks every object against the manifest's
        SHA-256, reads the age identity from SSM into memory, decrypts the secrets to `agenixDir`
        (0400, the agent's user), writes the gateway's config.json and repos.json to /run/clawdinator, and
        mounts the hive mind. Idempotent, retried with backoff, ordered before the gateway
      '';
      agenixDir = lib.mkOption {
        type = lib.types.str;
        default = "/run/agenix";
        description = "Where boot decrypts the secrets (tmpfs). The `*File` options' defaults point here.";
      };
      manifestWaitSeconds = lib.mkOption {
        type = lib.types.ints.between 0 3600;
        default = 300;
        description = "How long one boot attempt waits for a bundle manifest that is not uploaded yet, before it fails (and systemd retries it).";
      };
      endpoints = {
        imds = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
          description = "Instance metadata endpoint; `null`: AWS's (`http://169.254.169.254`).";
        };
        s3 = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
          description = "S3 endpoint; `null`: the region's.";
        };
        ssm = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
          description = "SSM endpoint; `null`: the region's.";
        };
      };
    };

    workspace = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      example = lib.literalExpression "./workspace";
      description = "A folder with SOUL.md, IDENTITY.md, AGENTS.md and skills/ replacing the workspace shipped with the package (the agent's `workspaceDir`). No secrets: it is copied into the store.";
    };

    user = lib.mkOption {
      type = lib.types.str;
      default = "clawdinator";
      description = "The system user the gateway runs as.";
    };
    group = lib.mkOption {
      type = lib.types.str;
      default = "clawdinator";
      description = "The gateway's group.";
    };
    uid = lib.mkOption {
      type = lib.types.ints.between 1 2147483647;
      default = 2000;
      description = "The user's uid. It must match the EFS access point's POSIX user (the fleet stack's `efs.uid`, 2000 by default).";
    };
    gid = lib.mkOption {
      type = lib.types.ints.between 1 2147483647;
      default = 2000;
      description = "The group's gid; must match the access point's `efs.gid`.";
    };
    stateDir = lib.mkOption {
      type = lib.types.str;
      default = "/var/lib/clawdinator";
      readOnly = true;
      description = "The gateway's state (its systemd StateDirectory), where the hive mind is mounted by default.";
    };

    sandbox = {
      enable = lib.mkEnableOption ''
        running model-written code (the coding tool, `clawdinator code`) under bubblewrap inside the
        gateway: the gateway may then create the seven namespace types bwrap uses (user, mnt, pid,
        net, ipc, uts, cgroup) and make the mount calls it needs (`@mount`); every other part of the
        hardening stays. Without it, coding tasks cannot start (docs/SANDBOX.md)
      '';
      tasksMax = lib.mkOption {
        type = lib.types.ints.positive;
        default = 512;
        description = "systemd `TasksMax=` of the gateway: caps the processes of all sandboxes together (their RLIMIT_NPROC is per uid).";
      };
    };

    heapSizeMB = lib.mkOption {
      type = lib.types.ints.between 64 16384;
      default = 128;
      description = "V8's old-space cap (`--max-old-space-size`). V8 keeps freed pages without one: RSS grew to ~380 MB over 3,000 messages and levelled at ~290 MB with 128.";
    };
    selfUpdate = {
      enable = lib.mkEnableOption ''
        the in-place lane: a timer runs `clawdinator self-update`, which switches the host to the
        release the fleet pins (`release/current.json` in the bootstrap bucket: a flake ref at a fixed
        revision), waits for the gateway's health, and switches back (and never retries that
        release) when it is not healthy. It never runs a host-local flake update. Needs
        `bootstrap.enable` (the bucket comes with the bundle)'';
      interval = lib.mkOption {
        type = lib.types.str;
        default = "30min";
        example = "1h";
        description = "How long after the last run the next one starts (systemd `OnUnitActiveSec=`); the first runs `onBoot` after boot.";
      };
      onBoot = lib.mkOption {
        type = lib.types.str;
        default = "15min";
        description = "When the first run starts after boot (systemd `OnBootSec=`): after the gateway has settled.";
      };
      randomizedDelay = lib.mkOption {
        type = lib.types.str;
        default = "5min";
        description = "systemd `RandomizedDelaySec=`: instances of a fleet do not switch at the same moment.";
      };
      healthTimeout = lib.mkOption {
        type = lib.types.strMatching "[0-9]+(ms|s|m|h)?";
        default = "5m";
        example = "10m";
        description = "How long the gateway has to report connected after a switch before the host switches back.";
      };
    };

    memoryMax = lib.mkOption {
      type = lib.types.str;
      default = if cfg.sandbox.enable then "3G" else "512M";
      defaultText = lib.literalExpression ''if sandbox.enable then "3G" else "512M"'';
      description = "systemd `MemoryMax=` of the gateway (and, with `sandbox.enable`, of every sandboxed command with it): a hard stop above the heap cap, for what V8 does not count.";
    };
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        assertions =
          [
            {
              assertion = cfg.bootstrap.enable || cfg.instanceName != null;
              message = "services.clawdinator.instanceName must be set (e.g. \"CLAWDINATOR-1\") unless services.clawdinator.bootstrap.enable brings it with the bundle.";
            }
            {
              assertion = !cfg.githubApp.enable || cfg.bootstrap.enable || (cfg.githubApp.appId != null && cfg.githubApp.installationId != null);
              message = "services.clawdinator.githubApp.enable needs githubApp.appId and githubApp.installationId (your App's ids: GitHub → Settings → Developer settings → GitHub Apps), or bootstrap.enable so the bundle supplies them.";
            }
            {
              assertion = !cfg.memoryEfs.enable || cfg.memoryEfs.fileSystemId != null || cfg.bootstrap.enable;
              message = "services.clawdinator.memoryEfs.enable needs a file system: set memoryEfs.fileSystemId (and accessPointId), or enable bootstrap so clawdinator-boot mounts the one the bundle names.";
            }
            {
              assertion = !cfg.selfUpdate.enable || cfg.bootstrap.enable;
              message = "services.clawdinator.selfUpdate.enable needs services.clawdinator.bootstrap.enable: the release pin and the health report live in the bootstrap bucket the bundle names.";
            }
            {
              assertion = cfg.memoryEfs.fileSystemId == null || cfg.memoryEfs.accessPointId != null;
              message = "services.clawdinator.memoryEfs.fileSystemId is set without memoryEfs.accessPointId: the hive mind's file system policy admits only its access point; set accessPointId = \"fsap-…\".";
            }
          ]
          ++ map (s: {
            assertion = !(isStorePath s.file);
            message = "services.clawdinator.${s.option} points into the Nix store (${toString s.file}), which every user can read: keep the secret out of the store (agenix decrypts it to /run/agenix/${s.name}) and set the option to that path.";
          }) secrets
          ++ map (s: {
            assertion = lib.hasPrefix "/" s.file;
            message = "services.clawdinator.${s.option} must be an absolute path (it is \"${s.file}\"), e.g. \"/run/agenix/${s.name}\".";
          }) secrets
          ++ map (k: {
            assertion = false;
            message = "services.clawdinator.config.${lib.concatStringsSep "." k} holds a secret inline, and would land in the world-readable Nix store: remove it and set services.clawdinator.${lib.concatStringsSep "." k}File to a file (agenix) instead.";
          }) inlineSecretKeys;

        warnings = lib.optional (cfg.openaiApiKeyFile != null && !cfg.sandbox.enable) (
          "services.clawdinator.openaiApiKeyFile is set but sandbox.enable is false: the coding model has a key, "
          + "but no task can run (the gateway's RestrictNamespaces blocks bubblewrap). Set services.clawdinator.sandbox.enable = true."
        );

        users.users.${cfg.user} = {
          isSystemUser = true;
          inherit (cfg) group uid;
          home = cfg.stateDir;
          description = "CLAWDINATOR agent";
        };
        users.groups.${cfg.group}.gid = cfg.gid;

        environment.etc."clawdinator/config.json".source = configFile;
        # What the health report says this system is (agent/ops/status.ts reads it).
        environment.etc."clawdinator/release.json".text = builtins.toJSON { inherit (config.system) configurationRevision; };
        environment.systemPackages = [ cfg.package ];

        systemd.services.clawdinator = {
          description = "CLAWDINATOR gateway";
          wantedBy = [ "multi-user.target" ];
          wants = [ "network-online.target" ];
          after = [ "network-online.target" ] ++ lib.optional cfg.bootstrap.enable "clawdinator-boot.service";
          requires = lib.optional cfg.bootstrap.enable "clawdinator-boot.service";
          restartTriggers = [ configFile ];
          # bwrap, prlimit, and git for the task's diff.
          path = lib.optionals cfg.sandbox.enable [
            pkgs.bubblewrap
            pkgs.util-linux
            pkgs.git
            pkgs.coreutils
            pkgs.bash
          ];
          unitConfig = {
            # Restarts back off on their own (RestartSteps); never give up on the gateway.
            StartLimitIntervalSec = 0;
          };
          environment = {
            NODE_ENV = "production";
            NODE_OPTIONS = "--max-old-space-size=${toString cfg.heapSizeMB}";
            NODE_COMPILE_CACHE = "/var/cache/clawdinator/node";
          };
          serviceConfig = {
            Type = "simple";
            ExecStart = "${lib.getExe cfg.package} run --config ${gatewayConfigPath}";
            User = cfg.user;
            Group = cfg.group;
            LoadCredential = map (s: "${s.name}:${s.file}") secrets;
            StateDirectory = "clawdinator";
            StateDirectoryMode = "0750";
            CacheDirectory = "clawdinator";
            ReadWritePaths = lib.unique [
              cfg.stateDir
              cfg.memoryEfs.mountPoint
            ] ++ [ "-${statusDir}" ];
            # The gateway reads secrets only through its credentials, never the decrypted files.
            InaccessiblePaths = [ "-${cfg.bootstrap.agenixDir}" ];
            WorkingDirectory = cfg.stateDir;
            Restart = "on-failure";
            RestartSec = "5s";
            RestartSteps = 5;
            RestartMaxDelaySec = "5min";
            MemoryMax = cfg.memoryMax;
            TasksMax = cfg.sandbox.tasksMax;

            # Hardening: a network client that reads its files and writes its state.
            ProtectSystem = "strict";
            ProtectHome = true;
            PrivateTmp = true;
            PrivateDevices = true;
            ProtectKernelTunables = true;
            ProtectKernelModules = true;
            ProtectKernelLogs = true;
            ProtectControlGroups = true;
            ProtectClock = true;
            ProtectHostname = true;
            ProtectProc = "invisible";
            ProcSubset = "pid";
            # The sandbox needs exactly the namespaces bwrap --unshare-all makes; nothing else does.
            RestrictNamespaces =
              if cfg.sandbox.enable then
                [
                  "user"
                  "mnt"
                  "pid"
                  "net"
                  "ipc"
                  "uts"
                  "cgroup"
                ]
              else
                true;
            RestrictRealtime = true;
            RestrictSUIDSGID = true;
            LockPersonality = true;
            # bwrap runs unprivileged (no setuid bit): it needs no new privileges, only a user namespace,
            # which gets its own capability set whatever the bounding set outside.
            NoNewPrivileges = true;
            CapabilityBoundingSet = "";
            AmbientCapabilities = "";
            # AF_NETLINK: glibc's getaddrinfo asks the kernel which address families are configured.
            RestrictAddressFamilies = [
              "AF_INET"
              "AF_INET6"
              "AF_UNIX"
              "AF_NETLINK"
            ];
            # With the sandbox: bwrap's mount, umount2 and pivot_root (@mount); the limits' setrlimit
            # and the uid mapping's setuid/setgroups must not be filtered out either.
            SystemCallFilter =
              if cfg.sandbox.enable then
                [
                  "@system-service"
                  "@mount"
                ]
              else
                [
                  "@system-service"
                  "~@privileged"
                  "~@resources"
                ];
            SystemCallArchitectures = "native";
            # V8's JIT writes executable memory.
            MemoryDenyWriteExecute = false;
            UMask = "0077";
          };
        };
      }

      (lib.mkIf cfg.bootstrap.enable {
        environment.etc."clawdinator/boot-settings.json".source = bootSettingsFile;

        systemd.services.clawdinator-boot = {
          description = "CLAWDINATOR boot: bootstrap bundle, secrets, hive mind";
          wantedBy = [ "multi-user.target" ];
          before = [ "clawdinator.service" ];
          wants = [ "network-online.target" ];
          after = [ "network-online.target" ];
          path = [ pkgs.util-linux ] ++ lib.optional cfg.memoryEfs.enable pkgs.efs-utils;
          restartTriggers = [ bootSettingsFile ];
          unitConfig = {
            StartLimitIntervalSec = 0;
            # A boot that succeeds only on a retry has already failed the gateway's start job
            # (Requires=): start the gateway once the bundle is really in place.
            OnSuccess = [ "clawdinator.service" ];
          };
          serviceConfig = {
            Type = "oneshot";
            RemainAfterExit = true;
            ExecStart = "${lib.getExe cfg.package} boot --settings /etc/clawdinator/boot-settings.json";
            # A bundle still uploading or a network not up yet: try again, backing off to 2 minutes.
            Restart = "on-failure";
            RestartSec = "5s";
            RestartSteps = 6;
            RestartMaxDelaySec = "2min";
            # Root, in the host's mount namespace: it chowns the secrets and its EFS mount must be
            # seen by the gateway, so no ProtectSystem/PrivateTmp (they would give it a private
            # mount table). What does not need a namespace is still locked down:
            NoNewPrivileges = true;
            RestrictSUIDSGID = true;
            RestrictRealtime = true;
            LockPersonality = true;
            SystemCallArchitectures = "native";
            RestrictAddressFamilies = [
              "AF_INET"
              "AF_INET6"
              "AF_UNIX"
              "AF_NETLINK"
            ];
            MemoryDenyWriteExecute = false;
            UMask = "0077";
          };
        };
        # The decrypted secrets live on tmpfs only.
        systemd.tmpfiles.rules = [
          "d ${cfg.bootstrap.agenixDir} 0711 root root -"
          # The health report's sections: boot and self-update (root) and the gateway write here.
          "d ${statusDir} 0750 ${cfg.user} ${cfg.group} -"
        ];
      })

      (lib.mkIf cfg.selfUpdate.enable {
        systemd.services.clawdinator-self-update = {
          description = "CLAWDINATOR self-update: switch to the fleet's pinned release, roll back if unhealthy";
          wants = [ "network-online.target" ];
          after = [
            "network-online.target"
            "clawdinator-boot.service"
          ];
          path = [ config.nix.package ];
          # switch-to-configuration must not stop or restart the very unit that is running it.
          restartIfChanged = false;
          stopIfChanged = false;
          unitConfig.X-StopOnRemoval = false;
          serviceConfig = {
            Type = "oneshot";
            ExecStart = "${lib.getExe cfg.package} self-update --config ${gatewayConfigPath} --state-dir /var/lib/clawdinator-self-update --health-timeout ${cfg.selfUpdate.healthTimeout}";
            # Root: it sets the system profile and activates it. Its lock and known-bad list persist.
            StateDirectory = "clawdinator-self-update";
            StateDirectoryMode = "0700";
            NoNewPrivileges = true;
            LockPersonality = true;
            RestrictRealtime = true;
            SystemCallArchitectures = "native";
            MemoryDenyWriteExecute = false;
            UMask = "0077";
          };
        };
        systemd.timers.clawdinator-self-update = {
          description = "CLAWDINATOR self-update timer";
          wantedBy = [ "timers.target" ];
          timerConfig = {
            OnBootSec = cfg.selfUpdate.onBoot;
            OnUnitActiveSec = cfg.selfUpdate.interval;
            RandomizedDelaySec = cfg.selfUpdate.randomizedDelay;
          };
        };
      })

      (lib.mkIf cfg.sandbox.enable {
        # bwrap needs unprivileged user namespaces (the NixOS default; said here so nobody turns it off).
        security.allowUserNamespaces = true;
      })

      (lib.mkIf cfg.memoryEfs.enable {
        # mount.efs (efs-utils) for `mount -t efs`; NFS 4.1 in the kernel.
        system.fsPackages = [ pkgs.efs-utils ];
        boot.supportedFilesystems = [ "nfs" ];
      })

      (lib.mkIf (cfg.memoryEfs.enable && cfg.memoryEfs.fileSystemId != null) {
        fileSystems.${cfg.memoryEfs.mountPoint} = {
          device = "${cfg.memoryEfs.fileSystemId}:/";
          fsType = "efs";
          options =
            [
              "_netdev"
              "tls"
              "iam"
              "accesspoint=${cfg.memoryEfs.accessPointId}"
              "nofail"
            ]
            ++ lib.optional (cfg.memoryEfs.region != null) "region=${cfg.memoryEfs.region}";
        };
      })
    ]
  );
}
