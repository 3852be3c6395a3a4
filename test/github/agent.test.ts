// The agent (`clawdinator run` on the shell transport) with GitHub configured against the local
// GitHub API: two agent processes sharing one memory folder post each digest item exactly once; a
// restarted agent (in this process, as is the next one) posts nothing again, and `triage` answers
// on demand; and the `github` CLI: `digest --once --json --now` prints JSON lines and posts
// (claims) nothing, `token` prints a token to stdout only.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { PassThrough } from "node:stream";
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { runCommandLine } from "../../cli/command-line.ts";
import { CLI, cleanEnv, runCliInProcess } from "../helpers/cli.ts";
import { DAY, FakeClock, HOUR, type GithubFake } from "../fakes/github/server.ts";
import { APP_ID, appFake, appKeys, INSTALLATION_ID } from "./helpers.ts";
import { tempDir } from "./harness.ts";

const STRANGER = { login: "stranger", association: "NONE" as const };
const MEMBER = { login: "maria", association: "MEMBER" as const };
const PAT = "ghp_agenttest0000000000000000000000000000";

interface Agent {
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once the log says the first digest ran (posted or silent). */
  readonly digested: Promise<void>;
  send(line: string): void;
  /** Ends stdin (the shell transport then finishes) and waits for the exit. */
  finish(): Promise<number | null>;
}

function startAgent(configPath: string, cwd: string): Agent {
  const child = spawn(process.execPath, [CLI, "run", "--config", configPath], { cwd, env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let markDigested: () => void = () => undefined;
  const digested = new Promise<void>((resolve) => (markDigested = resolve));
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    if (stderr.includes('"msg":"github: digest done"')) markDigested();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    digested: Promise.race([digested, exited.then(() => Promise.reject(new Error(`agent exited before its digest:\n${stderr}`)))]),
    send: (line) => void child.stdin.write(`${line}\n`),
    async finish() {
      child.stdin.end();
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}

/**
 * The same agent, `clawdinator run` through the command line in this process: for the runs where
 * a separate process shows nothing (one agent at a time); each spawn costs a node start with the
 * agent's and GitHub's imports.
 */
function startAgentInProcess(configPath: string, cwd: string): Agent {
  let stdout = "";
  let stderr = "";
  let markDigested: () => void = () => undefined;
  const digested = new Promise<void>((resolve) => (markDigested = resolve));
  const stdin = new PassThrough();
  const out = new PassThrough().setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  const err = new PassThrough().setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    if (stderr.includes('"msg":"github: digest done"')) markDigested();
  });
  const controller = new AbortController();
  const killer = setTimeout(() => controller.abort(), 90_000);
  const exited = runCommandLine(["run", "--config", configPath], { cwd, env: cleanEnv(), stdin, stdout: out, stderr: err, signal: controller.signal });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    digested: Promise.race([digested, exited.then(() => Promise.reject(new Error(`agent stopped before its digest:\n${stderr}`)))]),
    send: (line) => void stdin.write(`${line}\n`),
    async finish() {
      stdin.end();
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}

/** `owner/repo#n` of every digest line an agent posted. */
function postedItems(stdout: string): string[] {
  const posts = stdout.split("[post to attention]\n").slice(1);
  return posts.flatMap((post) => [...post.matchAll(/^\d+\. (\S+#\d+) /gm)].map((m) => m[1] ?? ""));
}

describe("the agent with GitHub configured", () => {
  let fake: GithubFake;
  let dir: string;
  let remove: () => Promise<void>;
  let config: string;
  const expected = new Set<string>();

  before(async () => {
    fake = await appFake({ clock: new FakeClock(Date.now()), pats: [PAT] });
    for (const name of ["acme/app", "acme/lib"]) {
      const repo = fake.repo(name);
      for (let i = 0; i < 4; i++) expected.add(`${name}#${repo.addIssue({ author: STRANGER, age: (3 + i) * DAY })}`);
      const answered = repo.addIssue({ author: STRANGER, age: 3 * DAY });
      repo.comment(answered, MEMBER, "On it.");
      expected.add(`${name}#${repo.addIssue({ author: STRANGER, age: HOUR, title: "Crash: no longer works" })}`);
      const pull = repo.addPull({ author: STRANGER, age: 5 * DAY });
      repo.checkRun(pull, "test", "failure", DAY);
      expected.add(`${name}#${pull}`);
    }
    ({ dir, remove } = await tempDir("clawd-gh-agent-"));
    await writeFile(path.join(dir, "key.pem"), appKeys().privateKey, { mode: 0o600 });
    config = path.join(dir, "config.json");
    await writeFile(
      config,
      JSON.stringify({
        logLevel: "debug",
        memoryDir: "memory",
        secretsFromEnv: false,
        githubApp: { appId: APP_ID, installationId: INSTALLATION_ID, privateKeyFile: "key.pem" },
        endpoints: { github: fake.baseUrl },
        github: {
          repos: ["acme/app", { name: "acme/lib", maintainers: ["trusted-dev"] }],
          digest: { channel: "attention", everyMinutes: 60, maxItems: 50 },
          seeds: { enabled: false },
        },
      }),
    );
  });
  after(async () => {
    await fake.close();
    await remove();
  });

  it("`github digest --once --json --now` prints one JSON line per flagged item and claims nothing", async () => {
    const result = await runCliInProcess(["github", "digest", "--once", "--json", "--now", new Date(fake.clock.now()).toISOString(), "--config", config]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(new Set(lines.map((l) => `${String(l.repo)}#${String(l.number)}`)), expected);
    for (const line of lines) {
      assert.deepEqual(Object.keys(line), ["repo", "number", "kind", "rules", "reason", "url"]);
      assert.ok(Array.isArray(line.rules) && line.rules.length > 0);
    }
    assert.deepEqual(await readdir(path.join(dir, "memory", "claims")).catch(() => []), [], "nothing was claimed, so nothing counts as posted");
    // --now moves the rules' clock: a day earlier, the issues opened 3 days ago are only 2 days old, still flagged; 2 days earlier they are not.
    const earlier = await runCliInProcess(["github", "digest", "--once", "--json", "--now", new Date(fake.clock.now() - 2 * DAY).toISOString(), "--config", config]);
    assert.equal(earlier.code, 0, earlier.stderr);
    assert.ok(earlier.stdout.trim().split("\n").length < lines.length);
  });

  it("two agent processes sharing a memory folder post each item exactly once", async () => {
    const a = startAgent(config, dir);
    const b = startAgent(config, dir);
    await Promise.all([a.digested, b.digested]);
    await Promise.all([a.finish(), b.finish()]);
    const fromA = postedItems(a.stdout());
    const fromB = postedItems(b.stdout());
    const all = [...fromA, ...fromB];
    assert.equal(all.length, new Set(all).size, `posted twice: A ${fromA.join(" ")} / B ${fromB.join(" ")}`);
    assert.deepEqual(new Set(all), expected);
  });

  it("a restarted agent posts nothing again, and `triage` still lists everything on demand", async () => {
    const c = startAgentInProcess(config, dir);
    await c.digested;
    c.send("triage");
    const deadline = Date.now() + 30_000;
    while (!c.stdout().includes("need a maintainer") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await c.finish();
    assert.doesNotMatch(c.stdout(), /\[post to attention\]/);
    const triage = [...c.stdout().matchAll(/^\d+\. (\S+#\d+) /gm)].map((m) => m[1]);
    assert.deepEqual(new Set(triage), expected);
  });

  it("a new failing item after the last digest is the only thing the next agent posts", async () => {
    const number = fake.repo("acme/lib").addIssue({ author: STRANGER, title: "Security: token exposed in logs" });
    const d = startAgentInProcess(config, dir);
    await d.digested;
    await d.finish();
    assert.deepEqual(postedItems(d.stdout()), [`acme/lib#${number}`]);
  });

  it("`github token` prints an installation token on stdout and nowhere else", async () => {
    const result = await runCliInProcess(["github", "token", "--config", config]);
    assert.equal(result.code, 0, result.stderr);
    const token = result.stdout.trim();
    assert.match(token, /^ghs_/);
    assert.ok(fake.tokens.some((t) => t.value === token));
    assert.doesNotMatch(result.stderr, new RegExp(token));
  });

  it("`github token` with no credentials says what to set", async () => {
    const bare = path.join(dir, "bare.json");
    await writeFile(bare, JSON.stringify({ secretsFromEnv: false, memoryDir: "memory" }));
    const result = await runCliInProcess(["github", "token", "--config", bare]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /githubApp.*github\.tokenFile/);
  });
});
