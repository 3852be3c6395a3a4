// Hostile commands against the real sandbox runner (bubblewrap on this machine). Each test fails
// if the sandbox leaks: a secret or the parent's environment seen, a TCP connection accepted, a
// process left behind, a limit not enforced, a file written outside the work folder.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { SandboxRunner, SandboxUnavailableError } from "../../agent/sandbox/runner.ts";
import { marker, openRunner, processesWith, workDir } from "./helpers.ts";

let sandbox: Awaited<ReturnType<typeof openRunner>>;

const run = async (command: string, limits: Parameters<SandboxRunner["run"]>[0]["limits"] = {}) => {
  const dir = await workDir(sandbox.runner, sandbox.root);
  const result = await sandbox.runner.run({ workDir: dir, command, limits });
  return { dir, result };
};

describe("sandbox: hostile commands are contained", () => {
  before(async () => {
    sandbox = await openRunner();
  });
  after(async () => {
    await sandbox.close();
  });

  it("cannot read a secret file, the memory root, /run/agenix, or the parent's environment", async () => {
    const canary = `canary-${randomBytes(12).toString("hex")}`;
    const secretDir = await mkdtemp(path.join(tmpdir(), "clawdinator-secret-"));
    const secretFile = path.join(secretDir, "openai-api-key");
    // World-readable on purpose: only the mount namespace keeps it out.
    await writeFile(secretFile, `${canary}-file`, { mode: 0o644 });
    const memoryRoot = await mkdtemp(path.join(tmpdir(), "clawdinator-memory-"));
    await writeFile(path.join(memoryRoot, "project.md"), `${canary}-memory`, { mode: 0o644 });
    let madeAgenix = false;
    if (!existsSync("/run/agenix")) {
      await mkdir("/run/agenix", { mode: 0o755 });
      madeAgenix = true;
    }
    const agenixFile = `/run/agenix/clawdinator-test-${process.pid}`;
    await writeFile(agenixFile, `${canary}-agenix`, { mode: 0o644 });
    process.env.CLAWDINATOR_TEST_CANARY = `${canary}-env`;
    try {
      const { result } = await run(
        [
          `cat ${secretFile}`,
          `cat ${memoryRoot}/project.md`,
          `cat ${agenixFile}`,
          "ls /run /root /home /var /etc",
          "env",
          "cat /proc/1/environ /proc/*/environ",
          "ls /proc",
          `grep -rs ${canary} /tmp /work /etc /dev /run 2>/dev/null`,
          "true",
        ].join("; "),
      );
      assert.equal(result.end, "exited", result.output);
      assert.doesNotMatch(result.output, new RegExp(canary), "a secret or the parent's environment reached the sandbox");
      assert.match(result.output, /No such file or directory/);
      const envNames = result.output
        .split("\n")
        .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
        .map((line) => line.slice(0, line.indexOf("=")));
      for (const name of envNames) assert.ok(["PATH", "HOME", "LANG", "TMPDIR", "PWD", "SHLVL", "OLDPWD", "_"].includes(name), `unexpected env var ${name}`);
      // Only the sandbox's own processes are visible (its pid namespace): bwrap's reaper, sh, ls.
      const pids = result.output.split("\n").filter((line) => /^\d+$/.test(line));
      assert.ok(pids.length > 0 && pids.length <= 6, `host processes visible: ${pids.join(" ")}`);
    } finally {
      delete process.env.CLAWDINATOR_TEST_CANARY;
      await rm(agenixFile, { force: true });
      if (madeAgenix) await rm("/run/agenix", { recursive: true, force: true });
      await rm(secretDir, { recursive: true, force: true });
      await rm(memoryRoot, { recursive: true, force: true });
    }
  });

  it("cannot open a TCP connection to a server on this host", async () => {
    const accepted: Socket[] = [];
    const server = createServer((socket) => {
      accepted.push(socket);
      socket.end("hello from the host\n");
    });
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    const port = (server.address() as { port: number }).port;
    const hosts = [
      "127.0.0.1",
      ...Object.values(networkInterfaces())
        .flat()
        .filter((a) => a && a.family === "IPv4")
        .map((a) => a?.address ?? ""),
    ];
    try {
      const script = [
        "import socket",
        `for host in ${JSON.stringify([...new Set(hosts)])}:`,
        "    try:",
        `        s = socket.create_connection((host, ${port}), timeout=2)`,
        "        print('CONNECTED', host, s.recv(100))",
        "    except OSError as e:",
        "        print('refused', host, e)",
      ].join("\n");
      const dir = await workDir(sandbox.runner, sandbox.root);
      await writeFile(path.join(dir, "script.py"), script, { mode: 0o644 });
      await sandbox.runner.prepareWorkDir(dir);
      const second = await sandbox.runner.run({ workDir: dir, command: "python3 script.py; cat /proc/net/dev" });
      assert.equal(second.end, "exited", second.output);
      assert.doesNotMatch(second.output, /CONNECTED/);
      assert.match(second.output, /refused 127\.0\.0\.1/);
      // Only loopback exists in the sandbox's network namespace.
      const interfaces = second.output
        .split("\n")
        .filter((line) => /^\s*\w+:\s+\d/.test(line))
        .map((line) => line.trim().split(":")[0]);
      assert.deepEqual(interfaces, ["lo"]);
      // A connection from the host itself is accepted: the server was listening all along.
      await new Promise<void>((resolve, reject) => connect(port, "127.0.0.1", resolve).on("error", reject));
      while (accepted.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(accepted.length, 1, "the sandbox reached the host's server");
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("survives a fork bomb: the process limit holds, and nothing is left afterwards", async () => {
    const tag = marker();
    const dir = await workDir(sandbox.runner, sandbox.root);
    await writeFile(path.join(dir, `${tag}.sh`), "bomb() { bomb | bomb & }; bomb; sleep 5\n", { mode: 0o755 });
    await sandbox.runner.prepareWorkDir(dir);
    const result = await sandbox.runner.run({ workDir: dir, command: `sh ./${tag}.sh`, limits: { processes: 32, wallTimeMs: 3_000 } });
    assert.notEqual(result.exitCode, 0);
    assert.deepEqual(await processesWith(tag), []);
  });

  it("stops 1 GB of output at the output limit", async () => {
    const { result } = await run("head -c 1073741824 /dev/zero | tr '\\0' a", { outputBytes: 65_536 });
    assert.equal(result.end, "output-limit");
    assert.ok(Buffer.byteLength(result.output) <= 65_536);
    assert.ok(result.outputBytes > 65_536);
  });

  it("stops a 2 GB file at the file size limit", async () => {
    const limit = 8 * 1_048_576;
    const { dir, result } = await run("head -c 2147483648 /dev/zero > big.bin; echo exit=$?", { fileSizeBytes: limit });
    assert.equal(result.end, "exited", result.output);
    assert.doesNotMatch(result.output, /exit=0/);
    assert.ok((await stat(path.join(dir, "big.bin"))).size <= limit);
  });

  it("kills an infinite loop at the wall-clock limit", async () => {
    const tag = marker();
    const { result } = await run(`while :; do :; done # ${tag}`, { wallTimeMs: 1_500 });
    assert.equal(result.end, "wall-timeout");
    assert.equal(result.exitCode, null);
    assert.deepEqual(await processesWith(tag), []);
  });

  it("kills a CPU hog at the CPU limit", async () => {
    const { result } = await run("while :; do :; done", { cpuSeconds: 1, wallTimeMs: 60_000 });
    assert.equal(result.end, "signalled");
    assert.ok(result.signal === "SIGXCPU" || result.signal === "SIGKILL", String(result.signal));
  });

  it("refuses memory beyond the memory limit", async () => {
    const { result } = await run("python3 -c 'b = bytearray(2 * 1024 ** 3); print(\"allocated\")'", { memoryBytes: 268_435_456 });
    assert.doesNotMatch(result.output, /allocated/);
    assert.match(result.output, /MemoryError/);
  });

  it("cannot write outside the work folder", async () => {
    const tag = marker();
    const { dir, result } = await run(
      [
        `echo x > /usr/${tag}`,
        `echo x > /${tag}`,
        `echo x > /etc/${tag}`,
        `echo x > /work/../${tag}`,
        `mkdir -p /tmp/${tag} && echo x > /tmp/${tag}/y`,
        `echo inside > /work/${tag}`,
        "true",
      ].join("; "),
    );
    assert.equal(result.end, "exited", result.output);
    assert.match(result.output, /Read-only file system|Permission denied/);
    for (const host of [`/usr/${tag}`, `/${tag}`, `/etc/${tag}`, path.join(path.dirname(dir), tag), path.join(tmpdir(), tag)]) {
      assert.equal(existsSync(host), false, `${host} was written from the sandbox`);
    }
    assert.deepEqual(await readdir(dir), [tag]);
  });

  it("kills a background process left behind when the command ends", async () => {
    const tag = marker();
    const dir = await workDir(sandbox.runner, sandbox.root);
    await writeFile(path.join(dir, `${tag}.sh`), "while :; do echo tick >> ticks; sleep 0.05; done\n", { mode: 0o755 });
    await sandbox.runner.prepareWorkDir(dir);
    const result = await sandbox.runner.run({
      workDir: dir,
      command: `(sh ./${tag}.sh &) ; nohup sh ./${tag}.sh >/dev/null 2>&1 & setsid sh ./${tag}.sh & sleep 0.3; echo left them running`,
    });
    assert.equal(result.end, "exited");
    assert.equal(result.exitCode, 0);
    assert.match(result.output, /left them running/);
    assert.deepEqual(await processesWith(tag), [], "a background process outlived the sandbox");
  });

  it("runs as an unprivileged uid with no capabilities, inside and out", async () => {
    const tag = marker();
    const dir = await workDir(sandbox.runner, sandbox.root);
    const running = sandbox.runner.run({ workDir: dir, command: `id -u; grep CapEff /proc/self/status; sleep 2 # ${tag}` });
    // Seen from the host, while it runs: the sandboxed shell's real uid is not root.
    let hostUid: number | undefined;
    while (hostUid === undefined) {
      const [found] = await processesWith(tag);
      const pid = found?.split(":")[0];
      if (pid) {
        const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
        const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
        if (uid !== undefined) hostUid = Number(uid);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const result = await running;
    assert.match(result.output, /^1000$/m);
    assert.match(result.output, /CapEff:\s+0+$/m);
    assert.notEqual(hostUid, 0, "the sandboxed command runs as root on the host");
    if (sandbox.runner.dropsPrivileges) assert.equal(hostUid, 65534);
  });

  it("says loudly when bubblewrap is missing", async () => {
    await assert.rejects(SandboxRunner.open({ bwrap: "/nonexistent/bwrap" }), (error: unknown) => {
      assert.ok(error instanceof SandboxUnavailableError);
      assert.match(error.message, /install it/);
      return true;
    });
  });
});
