// Evaluates the NixOS module and the flake offline with nix-instantiate and the vendored nixpkgs
// lib (../shared/vendor/nixpkgs-lib): the real .nix files, with only NixOS and nixpkgs' packages
// stood in for (test/nix/*.nix).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import type { TestContext } from "node:test";
import { promisify } from "node:util";
import { ROOT } from "../helpers/cli.ts";
import { requireTool } from "../helpers/tools.ts";

export const LIB = path.resolve(ROOT, "../shared/vendor/nixpkgs-lib/lib");

/** nix-instantiate and the vendored lib, or a skip (a failure in CI, where both must be there). */
export function nixTools(t: TestContext): string | undefined {
  const nix = requireTool(t, "nix-instantiate", "nix-bin");
  if (!nix) return undefined;
  if (!existsSync(path.join(LIB, "default.nix"))) {
    const message = `the vendored nixpkgs lib is not at ${LIB} (../shared beside the project)`;
    if (process.env.CI) throw new Error(message);
    t.skip(message);
    return undefined;
  }
  return nix;
}

/** `nix-instantiate --eval --strict --json` of a test/nix file with arguments; parsed. */
export async function evalNix<T>(nix: string, file: string, args: Readonly<Record<string, string>> = {}): Promise<T> {
  const argv = ["--eval", "--strict", "--json", "--arg", "libPath", LIB];
  for (const [name, value] of Object.entries(args)) argv.push("--argstr", name, value);
  argv.push(path.join(ROOT, "test/nix", file));
  const { stdout } = await promisify(execFile)(nix, argv, { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as T;
}
