// flake.nix's outputs, evaluated with a stand-in nixpkgs input (the vendored lib, stub packages, a
// nixosSystem built on evalModules): every output the README and the stack files name exists, and
// the fleet image is the image-based host the docs promise.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { it } from "node:test";
import yaml from "js-yaml";
import { ROOT } from "../helpers/cli.ts";
import { evalNix, nixTools } from "./harness.ts";

interface Host {
  failedAssertions: string[];
  clawdinator: boolean;
  bootstrap: boolean;
  package: string;
  openssh: boolean;
  ssmAgent: boolean;
  amazonInit: boolean;
  image: { format: string; efi: boolean };
  revision: string;
  instanceName: string | null;
  units: string[];
}
interface FlakeView {
  outputs: Record<string, string[]>;
  packages: Record<string, { clawdinator: { name: string; mainProgram: string; buildPhase: string; npmRoot: string }; image: { format: string; efi: boolean }; default: string }>;
  hosts: Record<string, Host>;
  example: { clawdinator: boolean; units: string[]; image: string };
  devShell: string;
}

it("has every output: packages (agent, image), modules, the fleet image's configurations, the example, the dev shell", async (t) => {
  const nix = nixTools(t);
  if (!nix) return;
  const flake = await evalNix<FlakeView>(nix, "eval-flake.nix");
  for (const system of ["x86_64-linux", "aarch64-linux"]) {
    const packages = flake.packages[system];
    assert.ok(packages, system);
    assert.equal(packages.clawdinator.name, "clawdinator-0.1.0");
    assert.equal(packages.clawdinator.mainProgram, "clawdinator");
    const { scripts } = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    assert.equal(scripts.bundle, "node scripts/bundle.ts");
    assert.match(packages.clawdinator.buildPhase, /\/bin\/node scripts\/bundle\.ts\n/, "the package runs `npm run bundle`'s script with nixpkgs' Node");
    assert.equal(packages.clawdinator.npmRoot, ROOT, "dependencies come from the repository's package-lock.json");
    assert.equal(packages.default, "clawdinator-0.1.0");
    assert.deepEqual(packages.image, { format: "raw", efi: true });
  }
  assert.deepEqual(flake.outputs.nixosModules, ["clawdinator", "default"]);
  assert.deepEqual(flake.outputs.nixosConfigurations, ["clawdinator", "clawdinator-aarch64", "example-minimal"]);
  assert.deepEqual(flake.outputs.devShells, ["aarch64-linux", "x86_64-linux"]);
  assert.equal(flake.devShell, "shell");

  for (const [name, host] of Object.entries(flake.hosts)) {
    assert.deepEqual(host.failedAssertions, [], name);
    assert.equal(host.clawdinator && host.bootstrap, true, `${name} runs the agent and its boot service`);
    assert.equal(host.package, "clawdinator-0.1.0", `${name}'s module defaults to the flake's own package`);
    assert.equal(host.openssh, false, `${name} has no SSH server`);
    assert.equal(host.ssmAgent, false, `${name} has no Session Manager`);
    assert.equal(host.amazonInit, false, `${name} does not treat JSON user data as a NixOS configuration`);
    assert.deepEqual(host.image, { format: "raw", efi: true });
    assert.equal(host.instanceName, null, `${name} is one image for the whole fleet: no instance is named in it`);
    assert.equal(host.revision, "0123456789abcdef0123456789abcdef01234567");
    assert.deepEqual(host.units, ["clawdinator", "clawdinator-boot"]);
  }
  assert.deepEqual(flake.example, { clawdinator: false, units: ["hello"], image: "raw" });
});

it("names, in Pulumi.fleet.yaml, a NixOS configuration the flake has, with a matching architecture and boot mode", async (t) => {
  const nix = nixTools(t);
  if (!nix) return;
  const flake = await evalNix<FlakeView>(nix, "eval-flake.nix");
  const stack = yaml.load(await readFile(path.join(ROOT, "Pulumi.fleet.yaml"), "utf8")) as { config: Record<string, Record<string, unknown>> };
  const image = stack.config["clawdinators:image"] ?? {};
  const name = String(image.nixosConfiguration);
  assert.ok(flake.outputs.nixosConfigurations?.includes(name), `Pulumi.fleet.yaml names nixosConfigurations.${name}`);
  const arch = image.architecture ?? "x86_64";
  assert.equal(name === "clawdinator-aarch64" ? "arm64" : "x86_64", arch);
  assert.equal(flake.hosts[name]?.image.efi, (image.bootMode ?? "uefi") !== "legacy-bios");
});

it("locks nixpkgs to one revision of the branch flake.nix follows, by its NAR hash", async () => {
  const lock = JSON.parse(await readFile(path.join(ROOT, "flake.lock"), "utf8")) as {
    version: number;
    root: string;
    nodes: Record<string, { inputs?: Record<string, string>; locked?: Record<string, unknown>; original?: Record<string, unknown> }>;
  };
  assert.equal(lock.version, 7);
  const nixpkgs = lock.nodes[lock.nodes[lock.root]?.inputs?.nixpkgs ?? ""];
  assert.ok(nixpkgs?.locked && nixpkgs.original);
  assert.match(String(nixpkgs.locked.rev), /^[0-9a-f]{40}$/);
  assert.match(String(nixpkgs.locked.narHash), /^sha256-[A-Za-z0-9+/]{43}=$/);
  const flake = await readFile(path.join(ROOT, "flake.nix"), "utf8");
  const ref = /inputs\.nixpkgs\.url = "github:NixOS\/nixpkgs\/([^"]+)";/.exec(flake)?.[1];
  assert.equal(nixpkgs.original.ref, ref, "the lock was made for the branch flake.nix names");
});
