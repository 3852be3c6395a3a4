// `clawdinator help` promises `--help` on image subcommands; each must print the usage and exit 0,
// not reject `--help` as an unknown option.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { it } from "node:test";
import { runCli, runCliInProcess, withTempDir } from "./helpers/cli.ts";

it("the top-level help advertises --help on image subcommands", async () => {
  const result = await runCli(["help"]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /clawdinator image build\|upload\|import\|ls\|prune\|adopt\|forget \[--help\]/);
});

for (const subcommand of ["build", "upload", "import", "ls", "prune", "adopt", "forget"]) {
  it(`image ${subcommand} --help prints the usage and exits 0`, async () => {
    const result = await runCliInProcess(["image", subcommand, "--help"]);
    assert.equal(result.stderr, "");
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^usage: clawdinator image <build\|upload\|import\|ls\|prune\|adopt\|forget>/);
    assert.match(result.stdout, new RegExp(`^  ${subcommand} `, "m"));
  });
}

it("an unknown image subcommand with --help is still a usage error", async () => {
  const result = await runCliInProcess(["image", "bogus", "--help"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown image command "bogus"/);
});

for (const args of [["memory", "--help"], ["bootstrap", "upload", "--help"], ["workspace", "render", "-h"], ["run", "--help"]]) {
  it(`${args.join(" ")} prints that command's usage and exits 0, running nothing`, async () => {
    const result = await runCliInProcess(args);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "", "no log: the agent did not start");
    assert.match(result.stdout, new RegExp(`^usage: clawdinator ${args[0]} `));
  });
}

it("bootstrap upload --help lists every option, not only the one-line usage", async () => {
  const result = await runCliInProcess(["bootstrap", "upload", "--help"]);
  assert.equal(result.code, 0, result.stderr);
  for (const option of ["--instance", "--outputs", "--efs-id", "--access-point-id", "--stack-file", "--region", "--dry-run"]) {
    assert.ok(result.stdout.includes(option), `${option} missing from the help`);
  }
});

it("--help after -- belongs to the command memory edit runs", async () => {
  await withTempDir(async (root) => {
    const result = await runCliInProcess(["memory", "edit", "notes.md", "--root", root, "--", "cat", "--help"]);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /usage: clawdinator memory/);
    // cat saw --help: its own help text became the file's content.
    assert.match(await readFile(path.join(root, "notes.md"), "utf8"), /cat/i);
  });
});
