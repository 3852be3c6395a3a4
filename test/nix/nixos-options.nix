# Test-only: the NixOS options the clawdinator module and the hosts set, declared loosely, since no
# NixOS is available offline. The module under test is the real file; only its surroundings are stand-ins.
{ lib, ... }:
let
  inherit (lib) mkOption types;
  loose = mkOption {
    type = types.attrsOf types.anything;
    default = { };
  };
  anything = mkOption {
    type = types.anything;
    default = null;
  };
  list = mkOption {
    type = types.listOf types.anything;
    default = [ ];
  };
in
{
  options = {
    assertions = list;
    warnings = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
    users.users = loose;
    users.groups = loose;
    users.mutableUsers = anything;
    systemd.services = loose;
    systemd.timers = loose;
    systemd.tmpfiles.rules = list;
    environment.etc = loose;
    environment.systemPackages = list;
    fileSystems = loose;
    system.fsPackages = list;
    system.configurationRevision = anything;
    system.stateVersion = anything;
    boot.supportedFilesystems = list;
    networking.firewall = loose;
    nix.settings = loose;
    nix.package = mkOption {
      type = types.anything;
      default = "/nix/store/00000000000000000000000000000000-nix-2.31";
    };
    documentation.enable = anything;
    time.timeZone = anything;
    security.allowUserNamespaces = anything;
  };
}
