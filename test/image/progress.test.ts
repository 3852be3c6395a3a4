// Progress of long image work: on a terminal a bar per phase with bytes, rate and ETA; on a pipe
// plain lines at each tenth, with bytes, and at least every 30 s while a phase waits.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { it } from "node:test";
import { progressReporter } from "../../cli/commands/image.ts";
import { lineReporter } from "../../providers/nixos-ami/progress.ts";

const MiB = 1024 * 1024;

/** A terminal `columns` wide that keeps what was written, split into the bar's redrawn frames. */
function terminal(columns: number): Writable & { isTTY: true; columns: number; frames(): string[] } {
  let written = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written += chunk.toString();
      done();
    },
  });
  return Object.assign(stream, { isTTY: true as const, columns, frames: () => written.split("\r\x1b[2K").filter(Boolean) });
}

it("a terminal redraws one bar per step in place, and a new step starts on a new line", () => {
  const stream = terminal(120);
  const { report, finish } = progressReporter(stream, lineReporter);
  report({ step: "upload", message: "s3://b/k", percent: 50 });
  report({ step: "upload", message: "s3://b/k", percent: 100 });
  report({ step: "import", message: "converting", percent: 40 });
  finish();
  const frames = stream.frames();
  assert.equal(frames.length, 3);
  assert.match(frames[0] ?? "", /^upload {5}█{15}░{15} {2}50%/);
  assert.match(frames[1] ?? "", /█{30} 100%.*\n$/, "a new step starts on a new line");
  assert.match(frames[2] ?? "", /^import .* 40% {2}converting\n$/);
});

it("a terminal shows the phase, bytes, rate and ETA once a second event of the phase arrives", () => {
  const stream = terminal(160);
  let clock = 1_000_000;
  const { report, finish } = progressReporter(stream, lineReporter, () => clock);
  report({ step: "upload", message: "s3://b/k", percent: 0, bytes: { done: 0, total: 256 * MiB } });
  clock += 4_000;
  report({ step: "upload", message: "s3://b/k", percent: 25, bytes: { done: 64 * MiB, total: 256 * MiB } });
  clock += 10_000;
  report({ step: "import", message: "converting", percent: 10 });
  clock += 60_000;
  report({ step: "import", message: "converting", percent: 40 });
  finish();
  const frames = stream.frames();
  assert.match(frames[0] ?? "", /^upload .* 0% {2}0\.0\/256\.0 MiB {2}s3:\/\/b\/k$/);
  // 64 MiB in 4 s: 16 MiB/s, 192 MiB left: 12 s.
  assert.match(frames[1] ?? "", /^upload .* 25% {2}64\.0\/256\.0 MiB {2}16\.0 MiB\/s {2}ETA 0:12 {2}s3:\/\/b\/k\n$/);
  // 30 points in 60 s: 60 points left take 120 s.
  assert.match(frames[3] ?? "", /^import .* 40% {2}ETA 2:00 {2}converting\n$/);
});

it("a pipe gets a line per tenth with bytes, and a line every 30 s while the figure stands still", () => {
  const lines: string[] = [];
  let clock = 0;
  const report = lineReporter((line) => lines.push(line), "image", { now: () => clock });
  report({ step: "upload", message: "s3://b/k", percent: 12, bytes: { done: 12 * MiB, total: 100 * MiB } });
  clock += 5_000;
  report({ step: "upload", message: "s3://b/k", percent: 15, bytes: { done: 15 * MiB, total: 100 * MiB } });
  for (let i = 0; i < 4; i++) {
    clock += 10_000;
    report({ step: "import", message: "converting", percent: 13 });
  }
  assert.deepEqual(lines, [
    "image: upload 12% s3://b/k (12.0 MiB of 100.0 MiB)",
    "image: import 13% converting",
    "image: import 13% converting",
  ]);
});
