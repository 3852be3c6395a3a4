{
  description = "clawdinators: NixOS on AWS, image-based, and the CLAWDINATOR maintainer agents";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # The fleet image's NixOS configuration for one architecture; the same for every instance.
      fleetImage =
        system:
        nixpkgs.lib.nixosSystem {
          inherit system;
          modules = [
            self.nixosModules.clawdinator
            ./nix/hosts/clawdinator.nix
            # The revision the image was built from, for `nixos-version --configuration-revision`
            # and the fleet's status reports.
            { system.configurationRevision = self.rev or self.dirtyRev or null; }
          ];
        };
      imageConfiguration = {
        x86_64-linux = "clawdinator";
        aarch64-linux = "clawdinator-aarch64";
      };
    in
    {
      packages = forAllSystems (
        pkgs:
        let
          system = pkgs.stdenv.hostPlatform.system;
        in
        {
          # The agent: bundled CLI + runtime dependencies, run by Node 24.
          clawdinator = pkgs.callPackage ./nix/packages/clawdinator.nix { };
          default = self.packages.${system}.clawdinator;
          # The fleet image as a raw disk (what the image resource uploads): image.nixosConfiguration
          # "clawdinator" (x86_64) or "clawdinator-aarch64".
          image = self.nixosConfigurations.${imageConfiguration.${system}}.config.system.build.amazonImage;
        }
      );

      overlays.default = final: _prev: {
        clawdinator = final.callPackage ./nix/packages/clawdinator.nix { };
      };

      # services.clawdinator, with the package defaulting to this flake's build of the agent.
      nixosModules.clawdinator =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/modules/clawdinator.nix ];
          services.clawdinator.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.clawdinator;
        };
      nixosModules.default = self.nixosModules.clawdinator;

      nixosConfigurations = {
        clawdinator = fleetImage "x86_64-linux";
        clawdinator-aarch64 = fleetImage "aarch64-linux";
        # The generic layer alone, for learners (nix/examples/minimal-service).
        example-minimal = nixpkgs.lib.nixosSystem {
          system = "x86_64-linux";
          modules = [ ./nix/examples/minimal-service/configuration.nix ];
        };
      };

      # The tools an operator needs: Node 24 for the agent and the Pulumi program, Pulumi itself,
      # the AWS CLI, and age/agenix for the bootstrap secrets.
      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
            pkgs.nodejs_24
            pkgs.pulumi-bin
            pkgs.awscli2
            pkgs.age
          ];
        };
      });
    };
}
