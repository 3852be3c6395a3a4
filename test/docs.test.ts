// The docs and package.json name files in this repository; a renamed or never-written file must
// fail here rather than send a reader (or `npm run`) to nothing.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { ROOT } from "./helpers/cli.ts";

const DOCS = [
  "README.md",
  "nix/README.md",
  "memory/README.md",
  ...readdirSync(path.join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

// Folders whose paths in prose are paths of this repository.
const REPO_PATH = /(?<=^|[\s(`])(?:agent|cli|infra|providers|test|bench|docs|workspace|nix)\/[\w.-]+(?:\/[\w.-]+)*/gm;

it("every repository path the docs name exists", () => {
  const missing: string[] = [];
  let named = 0;
  for (const doc of DOCS) {
    const text = readFileSync(path.join(ROOT, doc), "utf8");
    for (const [found] of text.matchAll(REPO_PATH)) {
      const candidate = found.replace(/[.]+$/, "");
      named += 1;
      if (!existsSync(path.join(ROOT, candidate))) missing.push(`${doc}: ${candidate}`);
    }
  }
  assert.ok(named > 20, `expected the docs to name many repository paths, found ${named}`);
  assert.deepEqual(missing, []);
});

it("every npm script that runs a file names one that exists", () => {
  const { scripts } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const files = Object.entries(scripts).flatMap(([name, command]) =>
    [...command.matchAll(/\bnode\s+(?:--[\w-]+(?:=\S+)?\s+)*([\w./-]+\.ts)\b/g)].map((match) => ({ name, file: match[1] ?? "" })),
  );
  assert.ok(files.length > 0, "expected at least one `node <file>.ts` script (npm start)");
  const missing = files.filter(({ file }) => !existsSync(path.join(ROOT, file))).map(({ name, file }) => `npm run ${name}: ${file}`);
  assert.deepEqual(missing, []);
});
