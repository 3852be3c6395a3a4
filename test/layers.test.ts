import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ESLint } from "eslint";
import { ROOT } from "./helpers/cli.ts";

// The boundaries are enforced by the lint rule in eslint.config.js; these cases prove the rule
// fires on a violation and stays quiet on the allowed direction.
const cases: Array<[file: string, importPath: string, allowed: boolean]> = [
  ["agent/x.ts", "../infra/index.ts", false],
  ["agent/brain/x.ts", "../../providers/nixos-ami/index.ts", false],
  ["agent/x.ts", "../cli/io.ts", false],
  ["infra/x.ts", "../agent/main.ts", false],
  ["providers/x.ts", "../agent/log.ts", false],
  ["test/fakes/x.ts", "../../agent/log.ts", false],
  ["infra/x.ts", "../providers/nixos-ami/index.ts", true],
  ["cli/x.ts", "../agent/main.ts", true],
  ["agent/x.ts", "./log.ts", true],
];

describe("layer boundaries", () => {
  const eslint = new ESLint({ cwd: ROOT });
  for (const [file, importPath, allowed] of cases) {
    it(`${file} importing ${importPath} is ${allowed ? "allowed" : "refused"}`, async () => {
      const [result] = await eslint.lintText(`import { x } from "${importPath}";\nexport const y = x;\n`, { filePath: `${ROOT}/${file}` });
      const restricted = result?.messages.filter((m) => m.ruleId === "no-restricted-imports") ?? [];
      assert.equal(restricted.length, allowed ? 0 : 1, JSON.stringify(result?.messages));
    });
  }
});
