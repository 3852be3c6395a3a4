# Test-only stand-in for nixpkgs' EC2 image builder: the options the hosts set, and an image
# "derivation" that records them, so a test can read what the real builder would be given.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  options = {
    amazonImage.format = mkOption {
      type = types.enum [
        "raw"
        "qcow2"
        "vpc"
      ];
      default = "vpc";
    };
    ec2.efi = mkOption {
      type = types.bool;
      default = false;
    };
    virtualisation.diskSize = mkOption {
      type = types.either types.int (types.enum [ "auto" ]);
      default = "auto";
    };
    virtualisation.amazon-init.enable = mkOption {
      type = types.bool;
      default = true;
    };
    services.openssh.enable = mkOption {
      type = types.bool;
      default = true;
    };
    services.amazon-ssm-agent.enable = mkOption {
      type = types.bool;
      default = true;
    };
    system.build = mkOption {
      type = types.attrsOf types.anything;
      default = { };
    };
  };
  # What the real module does by default: sshd on (it fetches keys from the metadata).
  config.system.build.amazonImage = {
    type = "derivation";
    outPath = "/nix/store/00000000000000000000000000000000-nixos-amazon-image";
    inherit (config.amazonImage) format;
    efi = config.ec2.efi;
    diskSize = config.virtualisation.diskSize;
  };
}
