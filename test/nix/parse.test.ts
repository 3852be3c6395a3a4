import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { it } from "node:test";
import { ROOT } from "../helpers/cli.ts";
import { requireTool } from "../helpers/tools.ts";

async function nixFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".nix") && !e.parentPath.includes("node_modules"))
    .map((e) => path.join(e.parentPath, e.name));
}

it("every Nix file parses", async (t) => {
  const nix = requireTool(t, "nix-instantiate", "nix-bin");
  if (!nix) return;
  const files = [path.join(ROOT, "flake.nix"), ...(await nixFiles(path.join(ROOT, "nix")))];
  assert.ok(files.length >= 1);
  for (const file of files) {
    try {
      execFileSync(nix, ["--parse", file], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
    } catch (error) {
      assert.fail(`${path.relative(ROOT, file)} does not parse:\n${(error as { stderr?: string }).stderr ?? error}`);
    }
  }
});

it("a Nix syntax error is caught by the same check", async (t) => {
  const nix = requireTool(t, "nix-instantiate", "nix-bin");
  if (!nix) return;
  assert.throws(() => execFileSync(nix, ["--parse", "-E", "{ a = ; }"], { stdio: "pipe" }));
});
