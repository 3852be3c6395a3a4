// `clawdinator help` promises `--help` on image subcommands; each must print the usage and exit 0,
// not reject `--help` as an unknown option.
import assert from "node:assert/strict";
import { it } from "node:test";
import { runCli } from "./helpers/cli.ts";

it("the top-level help advertises --help on image subcommands", async () => {
  const result = await runCli(["help"]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /clawdinator image build\|upload\|import\|ls\|prune \[--help\]/);
});

for (const subcommand of ["build", "upload", "import", "ls", "prune"]) {
  it(`image ${subcommand} --help prints the usage and exits 0`, async () => {
    const result = await runCli(["image", subcommand, "--help"]);
    assert.equal(result.stderr, "");
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^usage: clawdinator image <build\|upload\|import\|ls\|prune>/);
    assert.match(result.stdout, new RegExp(`^  ${subcommand} `, "m"));
  });
}

it("an unknown image subcommand with --help is still a usage error", async () => {
  const result = await runCli(["image", "bogus", "--help"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown image command "bogus"/);
});
