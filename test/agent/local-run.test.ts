import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GIFS } from "../../agent/gifs.ts";
import { logLines, run, runCli, runCliInProcess } from "../helpers/cli.ts";

const allGifs = new Set(Object.values(GIFS).flat());

describe("local run on embedded defaults (the README's start command)", () => {
  it("answers help, status, gif and a free-form line, then exits 0 at end of input", async () => {
    const result = await runCli(["run"], { input: "help\nstatus\ngif\nhow do I deploy?\n" });
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout;
    assert.match(out, /I am CLAWDINATOR-1\. Commands:/);
    assert.match(out, /^\s+status\s+instance, version/m);
    assert.match(out, /CLAWDINATOR-1 v\d+\.\d+\.\d+, up \d+s/);
    assert.match(out, /discord\s+offline\s+no token/);
    assert.match(out, /anthropic\s+offline\s+no API key: set "anthropicApiKeyFile"/);
    const gifLine = out.split("\n").find((line) => line.startsWith("https://"));
    assert.ok(gifLine && allGifs.has(gifLine), `expected a catalogued gif link, got ${gifLine}`);
    assert.match(out, /No model configured.*ANTHROPIC_API_KEY/);
    assert.doesNotMatch(out + result.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace anywhere");
    const logs = logLines(result.stderr);
    assert.ok(logs.some((l) => l.msg === "online"));
    assert.equal(logs.at(-1)?.msg, "stopped", "the last log line is written before exit");
  });

  it("answers in input order even when lines arrive at once", async () => {
    const lines = Array.from({ length: 40 }, (_, i) => (i % 2 ? "gif nope" : "status"));
    const result = await runCliInProcess(["run"], { input: `${lines.join("\n")}\n` });
    assert.equal(result.code, 0);
    const answers = result.stdout.split("\n").filter((l) => l.startsWith("CLAWDINATOR-1 v") || l.startsWith("No gif"));
    assert.deepEqual(
      answers.map((a) => (a.startsWith("No gif") ? "gif nope" : "status")),
      lines,
    );
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`exits 0 on ${signal} after flushing its log`, async () => {
      let sent = false;
      const result = await runCli(["run"], {
        input: "status\n",
        keepStdinOpen: true,
        onStdout: (soFar, child) => {
          if (!sent && soFar.includes("integrations:")) {
            sent = true;
            child.kill(signal);
          }
        },
      });
      assert.ok(sent, "the agent answered before the signal");
      assert.equal(result.code, 0, result.stderr);
      assert.equal(logLines(result.stderr).at(-1)?.msg, "stopped");
    });
  }

  it("works through `npm start` exactly as the README says", async () => {
    const result = await run("npm", ["start", "--silent"], { input: "gif back\n" });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(GIFS.back.includes(result.stdout.trim()), result.stdout);
  });

  it("rejects an unknown command with usage and exit 2", async () => {
    const result = await runCli(["launch-nukes"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command "launch-nukes"/);
    assert.match(result.stderr, /clawdinator run/);
  });
});
