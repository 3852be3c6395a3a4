# The agent as a small artifact: `npm run bundle` (esbuild) turns the CLI and its runtime
# dependencies into dist/, run by nixpkgs' Node 24. Dependencies come from package-lock.json through
# importNpmLock (each tarball fetched by the lock's own integrity hash), so no hand-kept npmDepsHash.
# No Pulumi and no dev dependencies are installed: only dist/.
{
  lib,
  buildNpmPackage,
  importNpmLock,
  nodejs_24,
  makeWrapper,
}:

let
  root = ../..;
  packageJson = lib.importJSON (root + "/package.json");
in
buildNpmPackage {
  pname = "clawdinator";
  inherit (packageJson) version;

  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/package.json")
      (root + "/package-lock.json")
      (root + "/tsconfig.json")
      (root + "/agent")
      (root + "/cli")
      (root + "/scripts")
      (root + "/workspace")
      (root + "/memory")
    ];
  };

  nodejs = nodejs_24;
  npmDeps = importNpmLock { npmRoot = root; };
  npmConfigHook = importNpmLock.npmConfigHook;
  # No install scripts: none of the dependencies needs one (esbuild finds its platform binary).
  npmFlags = [ "--ignore-scripts" ];
  # `npm run bundle`'s script, run by nixpkgs' Node itself: under `npm run`, node_modules/.bin comes
  # first on PATH, and the npm registry's Node binary (an optional dependency for checkouts on an
  # older Node) cannot run in the build sandbox. infra/ and providers/ are not even in `src`:
  # scripts/bundle.ts stubs the operator commands that would import them.
  buildPhase = ''
    runHook preBuild
    ${lib.getExe nodejs_24} scripts/bundle.ts
    runHook postBuild
  '';

  nativeBuildInputs = [ makeWrapper ];

  installPhase = ''
    runHook preInstall
    mkdir -p $out/lib/clawdinator $out/bin
    cp -r dist/. $out/lib/clawdinator/
    makeWrapper ${lib.getExe nodejs_24} $out/bin/clawdinator \
      --add-flags $out/lib/clawdinator/clawdinator.mjs \
      --set-default NODE_ENV production
    runHook postInstall
  '';

  meta = {
    description = "CLAWDINATOR: the maintainer agent and its boot service, bundled";
    homepage = "https://github.com/openclaw/clawdinators";
    license = lib.licenses.mit;
    mainProgram = "clawdinator";
    platforms = lib.platforms.linux;
  };
}
