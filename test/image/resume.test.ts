// Acceptance: kill the process during the import, run again: the same import task is resumed, and
// the fake ends with one import task, one snapshot and one AMI.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { nixosAmiProvider } from "../../providers/nixos-ami/provider.ts";
import type { NixosAmiState } from "../../providers/nixos-ami/types.ts";
import { startWorld, type World } from "./harness.ts";

const RUN_CREATE = path.join(path.dirname(fileURLToPath(import.meta.url)), "run-create.ts");

/** Starts a create in a child process and SIGKILLs it once it printed a line matching `killWhen`. */
function createThenKill(inputs: Record<string, unknown>, killWhen: RegExp): Promise<{ output: string; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [RUN_CREATE, JSON.stringify(inputs)], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  let output = "";
  const timeout = setTimeout(() => child.kill("SIGKILL"), 60_000);
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
    if (killWhen.test(output)) child.kill("SIGKILL");
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  return new Promise((resolve) =>
    child.on("close", (_code, signal) => {
      clearTimeout(timeout);
      resolve({ output, signal });
    }),
  );
}

describe("an interrupted run resumes", () => {
  let world: World;
  before(async () => {
    // Long enough that the kill lands while the task is active.
    world = await startWorld({ seed: "resume", sizeMiB: 2, dataMiB: 2, importDurationMs: 2_500 });
  });
  after(() => world.close());

  it("vm-import: killed while importing, the rerun waits for the same task", async () => {
    const inputs = world.inputs({ importMethod: "vm-import" });
    // Killed as soon as the task exists: the fake's task moves on with the wall clock, and under load
    // the first poll could already find it validating, past a "pending|downloading" line to kill on.
    const killed = await createThenKill(inputs, /import 0% import task import-snap-\S+ started/);
    assert.equal(killed.signal, "SIGKILL", killed.output);
    assert.equal(world.ec2.count("ImportSnapshot"), 1);
    const [task] = [...world.ec2.state.importTasks.values()];
    assert.ok(task);
    const uploadsBefore = world.s3.uploads().length;

    const checked = await nixosAmiProvider.check({}, inputs);
    const outs = (await nixosAmiProvider.create(checked.inputs ?? {})).outs as NixosAmiState;

    assert.equal(world.ec2.count("ImportSnapshot"), 1, "no second ImportSnapshot");
    assert.equal(world.ec2.state.importTasks.size, 1, "one import task");
    assert.equal(world.ec2.state.snapshots.size, 1, "one snapshot");
    assert.deepEqual(world.liveImages(), [outs.amiId], "one AMI");
    assert.equal(task.snapshotId, outs.snapshotId, "the AMI is built on the resumed task's snapshot");
    assert.equal(world.s3.uploads().length, uploadsBefore, "the upload was not repeated");
  });

  it("ebs-direct: killed while writing blocks, the rerun removes the unfinished snapshot and ends with one", async () => {
    await world.nix.configure({ seed: "resume-ebs", sizeMiB: 4, dataMiB: 4 });
    // Slow the first writes down so the kill lands mid-snapshot.
    world.ec2.faults.rejectBlockWritesFor(1_500);
    const inputs = world.inputs({ importMethod: "ebs-direct", namePrefix: "resume-ebs" });
    const killed = await createThenKill(inputs, /ebs-direct 0% snapshot snap-/);
    assert.equal(killed.signal, "SIGKILL", killed.output);
    world.ec2.faults.rejectBlockWritesFor(0);
    const [unfinished] = [...world.ec2.state.snapshots.values()].filter((snapshot) => snapshot.origin === "ebs-direct");
    assert.equal(unfinished?.state, "pending");

    const checked = await nixosAmiProvider.check({}, inputs);
    const outs = (await nixosAmiProvider.create(checked.inputs ?? {})).outs as NixosAmiState;
    const ebsSnapshots = [...world.ec2.state.snapshots.values()].filter((snapshot) => snapshot.origin === "ebs-direct");
    assert.deepEqual(
      ebsSnapshots.map((snapshot) => [snapshot.snapshotId, snapshot.state]),
      [[outs.snapshotId, "completed"]],
    );
    assert.equal(world.ec2.state.snapshots.has(unfinished?.snapshotId ?? ""), false);
  });

  it("a custom timeout stops the wait with a clear error; the task keeps running and the next run resumes it", async () => {
    await world.nix.configure({ seed: "timeout", sizeMiB: 2, dataMiB: 2 });
    const importsBefore = world.ec2.count("ImportSnapshot");
    // What `customTimeouts: { create: "1s" }` on the resource turns into.
    const hurried = await nixosAmiProvider.check({}, world.inputs({ importMethod: "vm-import", namePrefix: "timeout", importTimeoutMinutes: 1 / 60 }));
    await assert.rejects(nixosAmiProvider.create(hurried.inputs ?? {}), (error: unknown) => {
      assert.equal((error as { code?: string }).code, "IMPORT_TIMEOUT");
      assert.match((error as Error).message, /next run resumes it/);
      return true;
    });
    assert.equal(world.ec2.count("ImportSnapshot"), importsBefore + 1);
    const patient = await nixosAmiProvider.check({}, world.inputs({ importMethod: "vm-import", namePrefix: "timeout" }));
    const outs = (await nixosAmiProvider.create(patient.inputs ?? {})).outs as NixosAmiState;
    assert.equal(world.ec2.count("ImportSnapshot"), importsBefore + 1, "resumed, not restarted");
    assert.equal(world.ec2.state.images.get(outs.amiId)?.state, "available");
  });
});
