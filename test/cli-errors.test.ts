// The command line is checked before anything runs: an unknown option or an extra argument is a
// usage error (exit 2) that shows the command's usage; every command takes --version, --log-level
// and --help, and --help lists every option the command accepts. The command line runs in this
// process, except where only a process shows it (nothing on stderr with --version, or at log level
// silent).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCli, runCliInProcess, withTempDir } from "./helpers/cli.ts";
import { describeFailure } from "../cli/errors.ts";
import { parseCommandLine, parseOptions, UsageError } from "../cli/io.ts";
import { checkRegion } from "../cli/region.ts";

describe("usage errors exit 2 with the command's usage", () => {
  const cases: Array<{ args: string[]; message: RegExp; usage: RegExp }> = [
    { args: ["run", "extra"], message: /unexpected argument "extra"/, usage: /usage: clawdinator run / },
    { args: ["run", "--bogus"], message: /unknown option --bogus/, usage: /usage: clawdinator run / },
    { args: ["memory", "read", "a.md", "b.md"], message: /unexpected argument "b.md"/, usage: /usage: clawdinator memory / },
    { args: ["memory", "ls", "--nope"], message: /unknown option --nope/, usage: /usage: clawdinator memory / },
    { args: ["memory", "frobnicate", "a.md"], message: /unknown memory action "frobnicate"/, usage: /usage: clawdinator memory / },
    { args: ["workspace", "render", "--out"], message: /--out needs a value/, usage: /usage: clawdinator workspace render/ },
    { args: ["workspace", "render", "extra"], message: /unexpected argument "extra"/, usage: /usage: clawdinator workspace render/ },
    { args: ["image", "ls", "--region", "eu-central-1", "--wat"], message: /unknown option --wat/, usage: /usage: clawdinator image / },
    { args: ["image", "ls", "--json=yes"], message: /--json takes no value/, usage: /usage: clawdinator image / },
    { args: ["bootstrap", "upload", "--instance", "CLAWDINATOR-1", "stray"], message: /unexpected argument "stray"/, usage: /usage: clawdinator bootstrap upload/ },
  ];
  for (const { args, message, usage } of cases) {
    it(args.join(" "), async () => {
      const result = await runCliInProcess(args);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, "");
      const [first, ...rest] = result.stderr.split("\n");
      assert.match(first ?? "", /^clawdinator: /);
      assert.match(first ?? "", message);
      assert.match(rest.join("\n"), usage);
      assert.match(result.stderr, new RegExp(`clawdinator ${args[0]} --help`));
    });
  }
});

it("--version works on every command and before a command, and runs nothing", async () => {
  // The real entry once (nothing else on stderr: no preflight text, no Node warning), then the same
  // command line in this process for each place the flag can stand.
  const real = await runCli(["--version"]);
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stdout, /^clawdinator \d+\.\d+\.\d+ \(node v\d+/);
  assert.equal(real.stderr, "");
  for (const args of [["--version"], ["run", "--version"], ["memory", "ls", "-V"], ["image", "import", "--version"]]) {
    const result = await runCliInProcess(args);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^clawdinator \d+\.\d+\.\d+ \(node v\d+/);
    assert.equal(result.stderr, "");
  }
});

it("--log-level and LOG_LEVEL are checked on every command, naming the levels", async () => {
  const flag = await runCliInProcess(["memory", "ls", "--log-level", "loud"]);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--log-level "loud" is not a log level; use one of fatal, error, warn, info, debug, trace, silent/);
  const env = await runCliInProcess(["workspace", "render"], { env: { LOG_LEVEL: "chatty" } });
  assert.equal(env.code, 2);
  assert.match(env.stderr, /LOG_LEVEL "chatty" is not a log level/);
});

it("--log-level silences the agent's log; LOG_LEVEL does too, and the flag wins over it", async () => {
  await withTempDir(async (dir) => {
    const env = { CLAWDINATOR_MEMORY_DIR: dir, HOME: dir };
    // The real process once: nothing at all reaches its stderr (fd 2). The log goes to the stderr a
    // command is given, so the other two read it in this process.
    const quiet = await runCli(["run", "--log-level", "silent"], { input: "status\n", env, cwd: dir });
    assert.equal(quiet.stderr, "", "no log line at level silent");
    const viaEnv = await runCliInProcess(["run"], { input: "status\n", env: { ...env, LOG_LEVEL: "silent" }, cwd: dir });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal(viaEnv.stderr, "");
    const flagWins = await runCliInProcess(["run", "--log-level=info"], { input: "status\n", env: { ...env, LOG_LEVEL: "silent" }, cwd: dir });
    assert.match(flagWins.stderr, /online/);
  });
});

describe("--help lists every option a command accepts", () => {
  const commands: Array<{ args: string[]; module: string }> = [
    { args: ["memory", "--help"], module: "../cli/commands/memory.ts" },
    { args: ["workspace", "render", "--help"], module: "../cli/commands/workspace.ts" },
    { args: ["run", "--help"], module: "../cli/commands/run.ts" },
    { args: ["bootstrap", "upload", "--help"], module: "../cli/commands/bootstrap.ts" },
    { args: ["image", "import", "--help"], module: "../cli/commands/image.ts" },
  ];
  for (const { args, module } of commands) {
    it(args.join(" "), async () => {
      const { OPTIONS, FLAGS } = (await import(module)) as { OPTIONS: Record<string, unknown> | readonly string[]; FLAGS?: readonly string[] };
      const names = [...(Array.isArray(OPTIONS) ? OPTIONS : Object.keys(OPTIONS)), ...(FLAGS ?? [])];
      const result = await runCliInProcess(args);
      assert.equal(result.code, 0, result.stderr);
      const missing = [...names, "log-level", "version", "help"].filter((name) => !result.stdout.includes(`--${name}`));
      assert.deepEqual(missing, []);
    });
  }
});

describe("AWS regions are checked before any request", () => {
  it("accepts the partitions' region names", () => {
    for (const region of ["eu-central-1", "us-east-1", "ap-southeast-4", "us-gov-west-1", "cn-northwest-1", "il-central-1", "us-isob-east-1", "eusc-de-east-1"]) {
      assert.equal(checkRegion(region, "--region"), region);
    }
  });
  it("refuses a made-up one, naming where it came from", () => {
    for (const region of ["mars-1", "eu-central", "EU-CENTRAL-1", "eu-central-1a", ""]) {
      assert.throws(() => checkRegion(region, "--region"), (error: unknown) => error instanceof UsageError && /--region ".*" is not an AWS region/.test(error.message));
    }
  });
  it("image --region mars-1 is a usage error, not a DNS failure", async () => {
    const result = await runCliInProcess(["image", "ls", "--region", "mars-1"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--region "mars-1" is not an AWS region; use a name like eu-central-1/);
    const fromEnv = await runCliInProcess(["image", "ls"], { env: { AWS_REGION: "mars-1" } });
    assert.match(fromEnv.stderr, /AWS_REGION "mars-1" is not an AWS region/);
  });
});

describe("a network error names the endpoint and what to check", () => {
  it("ENOTFOUND, with the host", () => {
    const error = Object.assign(new Error("getaddrinfo ENOTFOUND ec2.mars-1.amazonaws.com"), { code: "ENOTFOUND", hostname: "ec2.mars-1.amazonaws.com" });
    assert.equal(describeFailure(error), "could not reach ec2.mars-1.amazonaws.com (ENOTFOUND): the name does not resolve: check the region or endpoint URL, and DNS");
  });
  it("ECONNREFUSED inside a cause, with address and port", () => {
    const inner = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED", address: "127.0.0.1", port: 9 });
    assert.match(describeFailure(new Error("fetch failed", { cause: inner })), /^could not reach 127\.0\.0\.1:9 \(ECONNREFUSED\): nothing listens there/);
  });
  it("an AWS refusal without a body (HTTP 403, the SDK's UnknownError) says what to check", () => {
    const bare = Object.assign(new Error("UnknownError"), { name: "Unknown", $metadata: { httpStatusCode: 403 } });
    assert.match(describeFailure(bare), /^AWS refused the request \(HTTP 403\): check the credentials \(AWS_ACCESS_KEY_ID/);
    const named = Object.assign(new Error("The security token included in the request is expired"), { name: "ExpiredToken", $metadata: { httpStatusCode: 403 } });
    assert.match(describeFailure(named), /^AWS refused the request \(ExpiredToken: The security token included in the request is expired\): check/);
    const notFound = Object.assign(new Error("no such bucket"), { name: "NoSuchBucket", $metadata: { httpStatusCode: 404 } });
    assert.equal(describeFailure(notFound), "no such bucket");
  });
  it("anything else keeps its message", () => {
    assert.equal(describeFailure(new Error("plain")), "plain");
  });
});

describe("parseCommandLine (node:util parseArgs, strict)", () => {
  it("returns typed values and positionals", () => {
    const { values, positionals } = parseCommandLine(["--out", "x", "render", "--dry"], {
      options: { out: { type: "string" }, dry: { type: "boolean" } },
      maxPositionals: 1,
    });
    assert.deepEqual({ ...values }, { out: "x", dry: true });
    assert.deepEqual(positionals, ["render"]);
  });
  it("the old parseOptions interface is strict too", () => {
    assert.deepEqual([...parseOptions(["--a=1", "--b", "p"], ["a"], ["b"]).options], [["a", "1"], ["b", "true"]]);
    assert.throws(() => parseOptions(["--c"], ["a"]), (error: unknown) => error instanceof UsageError && error.message === "unknown option --c" && error.usage === true);
  });
});
