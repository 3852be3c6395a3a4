// Logs for people and for machines: JSON on a pipe or under systemd, short lines on a terminal that
// never break the shell's prompt (one key per meaning and a quiet SIGTERM: test/discord/e2e.test.ts).
import assert from "node:assert/strict";
import { openSync, readFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { it } from "node:test";
import { createLogger, formatPretty, logFormatFor, ScrubbingSink } from "../../agent/log.ts";
import { ShellTransport } from "../../agent/transport/shell.ts";
import { withTempDir } from "../helpers/cli.ts";

it("picks JSON off a terminal and pretty on one; LOG_FORMAT overrides; NO_COLOR drops colour", () => {
  assert.deepEqual(logFormatFor({ isTTY: false }, {}), { format: "json", color: false });
  assert.deepEqual(logFormatFor(undefined, {}), { format: "json", color: false });
  assert.deepEqual(logFormatFor({ isTTY: true }, {}), { format: "pretty", color: true });
  assert.deepEqual(logFormatFor({ isTTY: true }, { NO_COLOR: "1" }), { format: "pretty", color: false });
  assert.deepEqual(logFormatFor({ isTTY: true }, { LOG_FORMAT: "json" }), { format: "json", color: false });
  assert.deepEqual(logFormatFor({ isTTY: false }, { LOG_FORMAT: "pretty" }), { format: "pretty", color: false });
});

it("a pretty line is time, level, component: message, then key=value; errors by type and message", () => {
  const time = new Date(2026, 11, 2, 9, 8, 7).getTime();
  const line = JSON.stringify({
    level: 40,
    time,
    instance: "CLAWDINATOR-1",
    component: "memory",
    msg: "could not seed",
    root: "/var/lib/hive mind",
    count: 3,
    err: { type: "MemoryError", message: "no space", code: "ENOSPC", stack: "MemoryError: no space\n    at x" },
  });
  assert.equal(formatPretty(line), '09:08:07 WARN  memory: could not seed root="/var/lib/hive mind" count=3 err="MemoryError: no space [ENOSPC]"\n');
  assert.ok(formatPretty(line, true).includes("\x1b[33mWARN \x1b[0m"), "WARN in yellow");
  assert.equal(formatPretty("not json"), "not json\n");
  const long = formatPretty(JSON.stringify({ level: 30, time, msg: "m", text: "x".repeat(500) }));
  assert.ok(long.length < 150, long);
});

it("the pretty sink scrubs secrets like the JSON one", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "log");
    const sink = new ScrubbingSink(openSync(file, "w"), { format: "pretty" });
    sink.addSecrets(["sk-ant-very-secret-value"]);
    createLogger({ level: "info", sink, name: "CLAWDINATOR-1" }).info({ note: "key sk-ant-very-secret-value" }, "hello");
    const text = readFileSync(file, "utf8");
    assert.ok(text.includes('INFO  hello note="key [REDACTED]"'), text);
    assert.doesNotMatch(text, /very-secret/);
  });
});

it("a log line on the shell's terminal is written above the prompt, which comes back with the half-typed input", async () => {
  const input = new PassThrough();
  const output = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
  let screen = "";
  output.setEncoding("utf8").on("data", (chunk: string) => (screen += chunk));
  const shell = new ShellTransport({ input, output, interactive: true, instance: "CLAWDINATOR-1" });
  await shell.start(async () => undefined);
  input.write("hal");
  await new Promise((resolve) => setImmediate(resolve));
  screen = "";
  shell.aboveThePrompt(() => output.write("09:08:07 INFO  a log line\n"));
  await new Promise((resolve) => setImmediate(resolve));
  // Cursor to column 0 and the line cleared, the log line, then the prompt and "hal" drawn again.
  const logAt = screen.indexOf("09:08:07 INFO  a log line\n");
  assert.ok(logAt > 0, JSON.stringify(screen));
  assert.ok(["\x1b[1G", "\x1b[0K", "\x1b[2K"].some((code) => screen.slice(0, logAt).includes(code)), "the prompt line is cleared first");
  assert.match(screen.slice(logAt), /you> hal/);
  input.end();
  await shell.stop();
});
