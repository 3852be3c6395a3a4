// The type check and the linter as two tests of the suite. `npm run typecheck` and `npm run lint`
// stay the way to run them alone; here the runner schedules them beside the other files, so they
// use the CPU those leave idle while they wait on timers, sockets and child processes (run first
// and alone, they added ~16 s to every `npm test`).
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import packageJson from "../package.json" with { type: "json" };
import { ROOT, run } from "./helpers/cli.ts";

const SCRIPTS: Readonly<Record<string, string>> = packageJson.scripts;

describe("static checks", { concurrency: true }, () => {
  for (const name of ["typecheck", "lint"]) {
    it(`npm run ${name} passes`, async () => {
      const script = SCRIPTS[name];
      assert.ok(script, `package.json has no "${name}" script`);
      // As npm runs a script: through sh, with the project's node_modules/.bin first on PATH.
      const result = await run("sh", ["-c", script], {
        cwd: ROOT,
        env: { PATH: `${path.join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}` },
        timeoutMs: 110_000,
      });
      assert.equal(result.code, 0, `npm run ${name} failed:\n${result.stdout}${result.stderr}`);
    });
  }
});
