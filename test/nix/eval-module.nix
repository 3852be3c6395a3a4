# Test-only: evaluates services.clawdinator with the given settings (JSON) and returns what the
# tests assert on: the units, the failed assertions' messages, the files written, the users.
{ libPath, settingsJson }:
let
  lib = import libPath;
  evaluated = lib.evalModules {
    modules = [
      ./nixos-options.nix
      ../../nix/modules/clawdinator.nix
      {
        _module.args.pkgs = import ./stub-pkgs.nix {
          inherit lib;
          system = "x86_64-linux";
        };
      }
      { services.clawdinator = builtins.fromJSON settingsJson; }
    ];
  };
  inherit (evaluated) config;
  etc = config.environment.etc;
in
{
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
  inherit (config) warnings;
  userNamespaces = config.security.allowUserNamespaces;
  # Forced only when every assertion holds (as NixOS would refuse to build otherwise).
  result =
    if lib.all (a: a.assertion) config.assertions then
      {
        services = config.systemd.services;
        timers = config.systemd.timers;
        releaseFile = etc."clawdinator/release.json".text;
        tmpfiles = config.systemd.tmpfiles.rules;
        users = config.users.users;
        groups = config.users.groups;
        fileSystems = config.fileSystems;
        fsPackages = map (p: p.name) config.system.fsPackages;
        agentConfig = etc."clawdinator/config.json".source.value;
        bootSettings = if etc ? "clawdinator/boot-settings.json" then etc."clawdinator/boot-settings.json".source.value else null;
      }
    else
      null;
}
