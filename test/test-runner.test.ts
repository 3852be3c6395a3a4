// scripts/test.ts, the runner behind `npm test`: a folder's files share one process, folders run
// side by side, a failing folder fails the run and is named in the summary with its failed test.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { collectBatches, MAX_FILES_PER_PROCESS } from "../scripts/test.ts";
import { ROOT, run } from "./helpers/cli.ts";

const RUNNER = path.join(ROOT, "scripts/test.ts");

/** A test file that records which process ran it, and passes or fails. */
function fixture(pidFile: string, outcome: "pass" | "fail"): string {
  return [
    `import { test } from "node:test";`,
    `import { writeFileSync } from "node:fs";`,
    `test("records its process", () => {`,
    `  writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));`,
    outcome === "fail" ? `  throw new Error("this fixture fails on purpose");` : "",
    `});`,
    "",
  ].join("\n");
}

describe("the test runner (scripts/test.ts)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "clawdinators-runner-"));
    await mkdir(path.join(dir, "alpha/nested"), { recursive: true });
    await mkdir(path.join(dir, "beta"));
    await writeFile(path.join(dir, "alpha/one.test.ts"), fixture(path.join(dir, "one.pid"), "pass"));
    await writeFile(path.join(dir, "alpha/two.test.ts"), fixture(path.join(dir, "two.pid"), "pass"));
    await writeFile(path.join(dir, "alpha/nested/three.test.ts"), fixture(path.join(dir, "three.pid"), "pass"));
    await writeFile(path.join(dir, "alpha/helper.ts"), "export {};\n");
    await writeFile(path.join(dir, "beta/bad.test.ts"), fixture(path.join(dir, "bad.pid"), "fail"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("groups the *.test.ts files by folder, the folder with the most files first", () => {
    const folders = collectBatches([dir], ROOT);
    const name = (sub: string): string => path.relative(ROOT, path.join(dir, sub));
    assert.deepEqual(
      folders.map((f) => [f.name, f.files.map((file) => path.basename(file))]),
      [
        [name("alpha"), ["one.test.ts", "two.test.ts"]],
        [name("alpha/nested"), ["three.test.ts"]],
        [name("beta"), ["bad.test.ts"]],
      ],
    );
  });

  it("splits a folder of more files than one process takes into batches of about equal size, in file order", async () => {
    const many = await mkdtemp(path.join(tmpdir(), "clawdinators-runner-many-"));
    try {
      const names = Array.from({ length: 2 * MAX_FILES_PER_PROCESS + 1 }, (_, i) => `f${String(i).padStart(2, "0")}.test.ts`);
      for (const name of names) await writeFile(path.join(many, name), "");
      const batches = collectBatches([many], ROOT);
      const folder = path.relative(ROOT, many);
      assert.deepEqual(batches.map((b) => b.name).sort(), [`${folder} (1/3)`, `${folder} (2/3)`, `${folder} (3/3)`]);
      const sizes = batches.map((b) => b.files.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes.join(", ")}`);
      assert.ok(Math.max(...sizes) <= MAX_FILES_PER_PROCESS, `sizes ${sizes.join(", ")}`);
      const ordered = [...batches].sort((a, b) => a.name.localeCompare(b.name)).flatMap((b) => b.files.map((f) => path.basename(f)));
      assert.deepEqual(ordered, names, "every file once, in order");
    } finally {
      await rm(many, { recursive: true, force: true });
    }
  });

  it("runs a folder's files in one process and folders in others; a failure fails the run and is named", async () => {
    const result = await run(process.execPath, [RUNNER, "--jobs", "2", dir], { timeoutMs: 60_000 });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const pid = (file: string): Promise<string> => readFile(path.join(dir, file), "utf8");
    assert.equal(await pid("one.pid"), await pid("two.pid"), "one folder, one process");
    assert.notEqual(await pid("one.pid"), await pid("three.pid"), "another folder, another process");
    assert.notEqual(await pid("one.pid"), await pid("bad.pid"));
    assert.match(result.stdout, /this fixture fails on purpose/, "the folder's own report is printed");
    const summary = result.stdout.slice(result.stdout.indexOf("── summary"));
    assert.match(summary, /✔ .*alpha: 2 files, 2 tests/);
    assert.match(summary, /✖ .*beta: 1 file, 1 tests, 1 failed, exit 1/);
    assert.match(summary, /✖ .*beta\/bad\.test\.ts:\d+: records its process/);
    assert.match(summary, /✖ 4 tests, 3 passed, 1 failed, 0 cancelled, 0 skipped, 0 todo; 1 of 3 batches failed/);
  });

  it("passes when every folder passes", async () => {
    const result = await run(process.execPath, [RUNNER, path.join(dir, "alpha")], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /✔ 3 tests, 3 passed, 0 failed.*0 of 2 batches failed/);
  });

  it("names a batch whose process dies before its tests end, and fails the run", async () => {
    const crash = await mkdtemp(path.join(tmpdir(), "clawdinators-runner-crash-"));
    try {
      await writeFile(path.join(crash, "dies.test.ts"), `import { test } from "node:test";\ntest("never reported", () => {});\nprocess.exit(3);\n`);
      const result = await run(process.execPath, [RUNNER, crash], { timeoutMs: 60_000 });
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, /✖ .*clawdinators-runner-crash-\w+: 1 file, the process exited 3 before its tests ended/);
      assert.match(result.stdout, /✖ 0 tests, .*1 of 1 batches failed/);
    } finally {
      await rm(crash, { recursive: true, force: true });
    }
  });

  it("refuses a bad --jobs, an unknown option and a missing path with its usage (exit 2), running nothing", async () => {
    for (const [args, message] of [
      [["--jobs", "0"], /--jobs must be a whole number of 1 or more, not "0"/],
      [["--jobs", "two"], /--jobs must be a whole number/],
      [["--bail"], /Unknown option '--bail'/],
      [[path.join(dir, "missing")], /no such file or folder: .*missing/],
    ] as const) {
      const result = await run(process.execPath, [RUNNER, ...args]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /Usage: npm test/);
      assert.equal(result.stdout, "");
    }
  });
});
