# Test-only stand-in for nixpkgs' package set: store-path-like strings for the packages the module
# interpolates, `formats.json` whose files keep their value readable, and a callPackage that really
# calls nix/packages/*.nix with stand-in builders.
{ lib, system }:
let
  drv = name: extra: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  } // extra;
  pkgs = rec {
    inherit lib;
    stdenv.hostPlatform.system = system;
    clawdinator = drv "clawdinator-0.1.0" { meta.mainProgram = "clawdinator"; };
    util-linux = drv "util-linux" { };
    efs-utils = drv "efs-utils" { };
    bubblewrap = drv "bubblewrap" { };
    git = drv "git" { };
    coreutils = drv "coreutils" { };
    bash = drv "bash" { };
    python3 = drv "python3" { meta.mainProgram = "python3"; };
    nodejs_24 = drv "nodejs-24" { meta.mainProgram = "node"; };
    makeWrapper = drv "make-wrapper-hook" { };
    writeTextDir = path: text: drv "text-dir" { inherit path text; };
    formats.json = _: {
      type = lib.types.attrsOf lib.types.anything;
      generate = name: value: drv name { inherit value; };
    };
    importNpmLock = {
      __functor = _: args: drv "npm-deps" { inherit (args) npmRoot; };
      npmConfigHook = drv "npm-config-hook" { };
    };
    buildNpmPackage = args: drv "${args.pname}-${args.version}" { passthru = args; inherit (args) meta; };
    callPackage =
      file: overrides:
      let
        fn = import file;
      in
      fn (builtins.intersectAttrs (builtins.functionArgs fn) pkgs // overrides);
    mkShell = args: drv "shell" args;
    pulumi-bin = drv "pulumi" { };
    awscli2 = drv "awscli2" { };
    age = drv "age" { };
  };
in
pkgs
