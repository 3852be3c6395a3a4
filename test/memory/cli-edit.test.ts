// Issue 16, part 5: `memory edit` cannot wedge a file. Its lock lease renews while the command runs,
// so a command that hangs, or that floods its output, would hold the file fleet-wide; it gets a
// timeout and an output bound, and on either its whole process group is killed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
// The command line runs in this process; the SIGTERM test spawns the real CLI, as only a process can show.
import { CLI, cleanEnv, runCliInProcess as runCli, withTempDir } from "../helpers/cli.ts";

/** True while `pid` is a live process (a zombie waiting to be reaped counts as dead). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Waits up to two seconds for every pid to be gone; returns the ones still alive. */
async function survivors(pids: readonly number[]): Promise<number[]> {
  let left = [...pids];
  for (let i = 0; i < 40 && left.length > 0; i++) {
    if (i > 0) await sleep(50);
    left = (await Promise.all(left.map(async (pid) => ((await alive(pid)) ? pid : undefined)))).filter((pid) => pid !== undefined);
  }
  return left;
}

async function pidsIn(file: string): Promise<number[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split(/\s+/).filter(Boolean).map(Number);
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

describe("clawdinator memory edit is bounded", () => {
  it("a command that outlives --timeout is killed with its whole process group (grandchildren too); exit 1, file unchanged, lock released", async () => {
    await withTempDir(async (dir) => {
      const root = path.join(dir, "mem");
      const pidFile = path.join(dir, "pids");
      const r0 = await runCli(["memory", "write", "ops.md", "--root", root], { input: "unchanged\n" });
      assert.equal(r0.code, 0, r0.stderr);
      // A background grandchild and the shell itself (exec'd into sleep), both recorded.
      const script = `sleep 1000 & echo $! >> '${pidFile}'; echo $$ >> '${pidFile}'; exec sleep 1000`;
      const started = performance.now();
      const r = await runCli(["memory", "edit", "ops.md", "--root", root, "--timeout", "1", "--", "sh", "-c", script], { timeoutMs: 20_000 });
      const pids = await pidsIn(pidFile);
      try {
        const took = performance.now() - started;
        assert.equal(r.code, 1, r.stderr);
        assert.ok(took < 10_000, `took ${Math.round(took)} ms`);
        assert.match(r.stderr, /ran past its 1 s timeout and was killed with its process group; "ops\.md" is unchanged and its lock is released/);
        assert.match(r.stderr, /--timeout SECONDS/);
        assert.equal(pids.length, 2, `recorded pids: ${pids.join(",")}`);
        assert.deepEqual(await survivors(pids), [], "no process of the edit command survives");
        assert.equal(await readFile(path.join(root, "ops.md"), "utf8"), "unchanged\n");
        assert.deepEqual(await readdir(path.join(root, ".locks")), [], "the lock is released");
      } finally {
        killAll(pids);
      }
    });
  });

  it("output past the memory limit kills the command at once: exit 2, MEMORY_TOO_LARGE, file unchanged", async () => {
    await withTempDir(async (dir) => {
      const config = path.join(dir, "config.json");
      await writeFile(config, JSON.stringify({ memoryDir: "mem", memory: { maxBytes: 2048 } }));
      const r0 = await runCli(["memory", "write", "ops.md", "--config", config], { input: "unchanged\n" });
      assert.equal(r0.code, 0, r0.stderr);
      // 5,000 bytes, then it would sit there for the whole (default) timeout.
      const pidFile = path.join(dir, "pids");
      const script = `echo $$ >> '${pidFile}'; head -c 5000 /dev/zero | tr '\\0' x; exec sleep 1000`;
      const started = performance.now();
      const r = await runCli(["memory", "edit", "ops.md", "--config", config, "--", "sh", "-c", script], { timeoutMs: 20_000 });
      const took = performance.now() - started;
      const pids = await pidsIn(pidFile);
      try {
        assert.equal(r.code, 2, r.stderr);
        assert.ok(took < 10_000, `took ${Math.round(took)} ms`);
        assert.match(r.stderr, /output .* passed the memory limit of 2048 bytes.*"ops\.md" is unchanged and its lock is released.*\[MEMORY_TOO_LARGE\]/);
        assert.match(r.stderr, /memory\.maxBytes/);
        assert.equal(await readFile(path.join(dir, "mem/ops.md"), "utf8"), "unchanged\n");
        assert.deepEqual(await survivors(pids), []);
      } finally {
        killAll(pids);
      }
    });
  });

  it("a command that exits 0 but leaves a background process holding its stdout does not hang the edit; the leftover is killed", async () => {
    await withTempDir(async (dir) => {
      const root = path.join(dir, "mem");
      const pidFile = path.join(dir, "pids");
      const r0 = await runCli(["memory", "write", "ops.md", "--root", root], { input: "old\n" });
      assert.equal(r0.code, 0, r0.stderr);
      const script = `sleep 1000 & echo $! >> '${pidFile}'; sed s/old/new/`;
      const r = await runCli(["memory", "edit", "ops.md", "--root", root, "--", "sh", "-c", script], { timeoutMs: 20_000 });
      const pids = await pidsIn(pidFile);
      try {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await readFile(path.join(root, "ops.md"), "utf8"), "new\n");
        assert.deepEqual(await survivors(pids), []);
      } finally {
        killAll(pids);
      }
    });
  });

  it("SIGTERM to the CLI mid-edit kills the command's whole group too (it runs detached, out of reach of the terminal's signals)", async () => {
    await withTempDir(async (dir) => {
      const root = path.join(dir, "mem");
      const pidFile = path.join(dir, "pids");
      const r0 = await runCli(["memory", "write", "ops.md", "--root", root], { input: "unchanged\n" });
      assert.equal(r0.code, 0, r0.stderr);
      const script = `sleep 1000 & echo $! >> '${pidFile}'; echo $$ >> '${pidFile}'; exec sleep 1000`;
      const cli = spawn(process.execPath, [CLI, "memory", "edit", "ops.md", "--root", root, "--", "sh", "-c", script], { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      cli.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => cli.on("close", resolve));
      let pids: number[] = [];
      try {
        for (let i = 0; i < 200 && pids.length < 2; i++) {
          await sleep(50);
          pids = await pidsIn(pidFile);
        }
        assert.equal(pids.length, 2, "the command started");
        cli.kill("SIGTERM");
        assert.equal(await exited, 1, stderr);
        assert.match(stderr, /was interrupted and killed with its process group; "ops\.md" is unchanged and its lock is released/);
        assert.deepEqual(await survivors(pids), []);
        assert.equal(await readFile(path.join(root, "ops.md"), "utf8"), "unchanged\n");
      } finally {
        cli.kill("SIGKILL");
        killAll(pids);
      }
    });
  });

  it("--timeout takes a number of seconds above 0, is listed in --help, and belongs to edit only", async () => {
    await withTempDir(async (root) => {
      for (const bad of ["0", "-1", "abc", "1e999"]) {
        const r = await runCli(["memory", "edit", "ops.md", "--root", root, `--timeout=${bad}`, "--", "cat"]);
        assert.equal(r.code, 2, `--timeout=${bad}: ${r.stderr}`);
        assert.match(r.stderr, /--timeout .*a number of seconds greater than 0, e\.g\. --timeout 300/);
      }
      const other = await runCli(["memory", "read", "ops.md", "--root", root, "--timeout", "5"]);
      assert.equal(other.code, 2);
      assert.match(other.stderr, /--timeout applies to memory edit only/);
      const help = await runCli(["memory", "--help"]);
      assert.match(help.stdout, /--timeout SECONDS .*default 60/);
    });
  });
});
