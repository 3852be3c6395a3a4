# The generic layer alone, for learners: a NixOS-on-AWS image that runs one small hardened service
# and nothing of CLAWDINATOR. Point the image resource at it (image.nixosConfiguration =
# "example-minimal") and `pulumi up --stack fleet` turns it into an AMI the same way.
{
  lib,
  modulesPath,
  pkgs,
  ...
}:

{
  imports = [ "${modulesPath}/../maintainers/scripts/ec2/amazon-image.nix" ];

  amazonImage.format = "raw";
  ec2.efi = true;
  virtualisation.diskSize = lib.mkDefault (4 * 1024);

  # Image-based: no SSH, no user-data configuration, no open port but the service's.
  services.openssh.enable = lib.mkForce false;
  virtualisation.amazon-init.enable = false;
  users.mutableUsers = false;
  networking.firewall.allowedTCPPorts = [ 8080 ];

  # The service: a static page over HTTP, as an unprivileged, sandboxed systemd unit.
  systemd.services.hello = {
    description = "hello from an image-based NixOS";
    wantedBy = [ "multi-user.target" ];
    after = [ "network-online.target" ];
    wants = [ "network-online.target" ];
    serviceConfig = {
      ExecStart = "${lib.getExe pkgs.python3} -m http.server 8080 --directory ${pkgs.writeTextDir "index.html" "<h1>hello from NixOS on AWS</h1>\n"}";
      DynamicUser = true;
      ProtectSystem = "strict";
      ProtectHome = true;
      PrivateTmp = true;
      NoNewPrivileges = true;
      CapabilityBoundingSet = "";
      RestrictAddressFamilies = [
        "AF_INET"
        "AF_INET6"
      ];
      SystemCallFilter = [ "@system-service" ];
      Restart = "on-failure";
    };
  };

  system.stateVersion = "25.11";
}
