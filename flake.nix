{
  description = "clawdinators: NixOS on AWS, image-based, and the CLAWDINATOR maintainer agents";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
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
