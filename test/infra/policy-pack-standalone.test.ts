// The policy pack publishes on its own (issue 16): nothing in infra/policy/ imports from outside
// the folder, every package it imports is a dependency in its own package.json, and its lockfile
// pins exactly those.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { ROOT } from "../helpers/cli.ts";

const PACK = path.join(ROOT, "infra/policy");
const manifest = JSON.parse(readFileSync(path.join(PACK, "package.json"), "utf8")) as { dependencies: Record<string, string> };

describe("infra/policy is self-contained", () => {
  it("imports only files inside its folder and packages its package.json lists", () => {
    const sources = readdirSync(PACK).filter((f) => f.endsWith(".ts"));
    assert.ok(sources.includes("invariants.ts"), "the invariants live in the pack");
    for (const file of sources) {
      const text = readFileSync(path.join(PACK, file), "utf8");
      for (const [, specifier = ""] of text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
        if (specifier.startsWith(".")) {
          const target = path.resolve(PACK, specifier);
          assert.ok(target.startsWith(`${PACK}${path.sep}`), `${file} imports ${specifier}, outside the pack`);
          continue;
        }
        if (specifier.startsWith("node:")) continue;
        const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : (specifier.split("/")[0] ?? "");
        assert.ok(Object.hasOwn(manifest.dependencies, name), `${file} imports ${name}, not a dependency of the pack`);
      }
    }
  });

  it("has its own lockfile pinning exactly its dependencies", () => {
    const lock = JSON.parse(readFileSync(path.join(PACK, "package-lock.json"), "utf8")) as {
      lockfileVersion: number;
      packages: Record<string, { dependencies?: Record<string, string>; version?: string }>;
    };
    assert.equal(lock.lockfileVersion, 3);
    assert.deepEqual(lock.packages[""]?.dependencies, manifest.dependencies);
    for (const name of Object.keys(manifest.dependencies)) assert.ok(lock.packages[`node_modules/${name}`]?.version, `${name} is locked`);
  });
});
