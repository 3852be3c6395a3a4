# The fleet image: ONE NixOS configuration for every CLAWDINATOR. Nothing here names an instance:
# the instance's name, secrets, agent config and hive mind arrive at boot in its bootstrap bundle
# (clawdinator-boot), so the content-addressed image is built once and shared by the fleet.
# `nix build .#image` builds its raw disk image; the Pulumi image resource uploads that.
{
  lib,
  modulesPath,
  ...
}:

{
  imports = [
    # nixpkgs' EC2 image builder: `config.system.build.amazonImage` and the EC2 base config.
    "${modulesPath}/../maintainers/scripts/ec2/amazon-image.nix"
  ];

  # ebs-direct uploads a raw image; VM Import would take one too. UEFI matches the image
  # resource's default boot mode (image.bootMode "uefi" in Pulumi.fleet.yaml).
  amazonImage.format = "raw";
  ec2.efi = true;
  # The disk is mostly zeros, which ebs-direct never sends; growpart resizes the root at boot.
  virtualisation.diskSize = lib.mkDefault (8 * 1024);

  # No SSH, no key pair, no Session Manager: the host is replaced, not logged into.
  services.openssh.enable = lib.mkForce false;
  services.amazon-ssm-agent.enable = lib.mkForce false;
  users.mutableUsers = false;
  users.users.root.hashedPassword = "!";
  # User data is JSON for clawdinator-boot (docs/SECRETS.md), not a NixOS configuration.
  virtualisation.amazon-init.enable = false;
  networking.firewall = {
    enable = true;
    allowedTCPPorts = lib.mkForce [ ];
  };

  services.clawdinator = {
    enable = true;
    bootstrap.enable = true;
    memoryEfs.enable = true;
    # The secrets every instance's bundle ships (Pulumi.clawdinator-<n>.yaml, clawdinators:secrets).
    discordTokenFile = "/run/agenix/discord-token";
    anthropicApiKeyFile = "/run/agenix/anthropic-api-key";
    openaiApiKeyFile = "/run/agenix/openai-api-key";
    # The coding model's tasks run under bubblewrap (docs/SANDBOX.md).
    sandbox.enable = true;
  };

  nix.settings.experimental-features = [
    "nix-command"
    "flakes"
  ];
  documentation.enable = false;
  time.timeZone = "UTC";
  system.stateVersion = "25.11";
}
