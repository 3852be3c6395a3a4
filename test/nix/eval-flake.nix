# Test-only: evaluates flake.nix's outputs with a stand-in nixpkgs input (the vendored nixpkgs lib,
# stub packages, and a nixosSystem built on evalModules with the stand-in EC2 image module).
{ libPath }:
let
  baseLib = import libPath;
  stubPkgs = system: import ./stub-pkgs.nix {
    lib = baseLib;
    inherit system;
  };
  nixosSystem =
    { system, modules }:
    baseLib.evalModules {
      specialArgs.modulesPath = toString ./stub-nixpkgs/nixos + "/modules";
      modules = modules ++ [
        ./nixos-options.nix
        { _module.args.pkgs = stubPkgs system; }
      ];
    };
  nixpkgs = {
    lib = baseLib // { inherit nixosSystem; };
    legacyPackages = baseLib.genAttrs [ "x86_64-linux" "aarch64-linux" ] stubPkgs;
  };
  flake = import ../../flake.nix;
  outputs = flake.outputs {
    self = outputs // { rev = "0123456789abcdef0123456789abcdef01234567"; };
    inherit nixpkgs;
  };
  host = name: let c = outputs.nixosConfigurations.${name}.config; in {
    failedAssertions = map (a: a.message) (baseLib.filter (a: !a.assertion) c.assertions);
    clawdinator = c.services.clawdinator.enable or false;
    bootstrap = c.services.clawdinator.bootstrap.enable or false;
    package = c.services.clawdinator.package.name or null;
    openssh = c.services.openssh.enable;
    ssmAgent = c.services.amazon-ssm-agent.enable;
    amazonInit = c.virtualisation.amazon-init.enable;
    image = { inherit (c.system.build.amazonImage) format efi; };
    revision = c.system.configurationRevision;
    instanceName = c.services.clawdinator.instanceName or null;
    units = builtins.attrNames c.systemd.services;
  };
in
{
  description = flake.description;
  outputs = baseLib.mapAttrs (_: v: builtins.attrNames v) (builtins.removeAttrs outputs [ "overlays" ]) // {
    overlays = builtins.attrNames outputs.overlays;
  };
  packages = baseLib.mapAttrs (_: p: {
    clawdinator = { inherit (p.clawdinator) name; mainProgram = p.clawdinator.meta.mainProgram; buildPhase = p.clawdinator.passthru.buildPhase; npmRoot = toString p.clawdinator.passthru.npmDeps.npmRoot; };
    image = { inherit (p.image) format efi; };
    default = p.default.name;
  }) outputs.packages;
  hosts = baseLib.genAttrs [ "clawdinator" "clawdinator-aarch64" ] host;
  example = let c = outputs.nixosConfigurations.example-minimal.config; in {
    clawdinator = c.services ? clawdinator;
    units = builtins.attrNames c.systemd.services;
    image = c.system.build.amazonImage.format;
  };
  devShell = outputs.devShells.x86_64-linux.default.name;
}
