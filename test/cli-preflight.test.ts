// On a Node.js too old for this project's TypeScript, the first line says so, with the fix, instead
// of Node's own ERR_UNKNOWN_FILE_EXTENSION. Needs an old Node to run with: the machine's own (CI's
// is 20); skipped where every node on PATH is new enough.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { CLI, ROOT, run } from "./helpers/cli.ts";

/** A node on PATH, outside this project, older than 22.18. */
function oldNode(): string | undefined {
  const projectBin = path.join(ROOT, "node_modules/.bin");
  for (const folder of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(folder, "node");
    if (folder === "" || path.resolve(folder) === projectBin || !existsSync(candidate)) continue;
    const [major = 0, minor = 0] = execFileSync(candidate, ["-p", "process.versions.node"], { encoding: "utf8" }).trim().split(".").map(Number);
    if (major < 22 || (major === 22 && minor < 18)) return candidate;
  }
  return undefined;
}

it("an old Node running the CLI directly is told to use the Node 24 npm ci installed, and nothing else runs", async (t) => {
  const node = oldNode();
  if (node === undefined) return t.skip("no node older than 22.18 on PATH");
  const result = await run(node, [CLI, "--version"]);
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, "", "the command did not run");
  const [first = ""] = result.stderr.split("\n");
  assert.match(first, /^clawdinator: Node\.js \d+\.\d+\.\d+ is too old; this project needs Node\.js >= 22\.18/);
  assert.match(first, /Fix: npm ci already installed Node\.js 24 in node_modules\/\.bin; use it: `npx clawdinator …`, or `export PATH=".*node_modules\/\.bin:\$PATH"`/);
  assert.doesNotMatch(result.stderr, /ERR_UNKNOWN_FILE_EXTENSION/);
});
