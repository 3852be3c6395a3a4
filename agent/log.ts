import { writeSync } from "node:fs";
import type { Writable } from "node:stream";
import { pino, type Logger, type LevelWithSilent } from "pino";
import { SecretScrubber } from "./scrub.ts";

export type { Logger };

const REDACTED = "[REDACTED]";

/** Field names whose values are secrets wherever they appear in a log object. */
const REDACT_PATHS = [
  "token",
  "*.token",
  "apiKey",
  "*.apiKey",
  "privateKey",
  "*.privateKey",
  "authorization",
  "*.authorization",
  "*.headers.authorization",
  "*.headers.Authorization",
];

/**
 * A line sink that removes every known secret value (and every well-known token shape) before the
 * line reaches stderr, with the agent's one scrubber (`scrub.ts`). Key-based redaction alone misses
 * a token quoted inside an error message; scrubbing by value does not. Writes are synchronous, so
 * nothing is lost when the process exits right after logging. The same `scrub` is what the router
 * applies to outgoing messages and the brain to memory writes.
 */
export class ScrubbingSink {
  private readonly scrubber = new SecretScrubber();
  private readonly destination: LogDestination;
  private readonly format: LogFormat;
  private readonly color: boolean;
  /**
   * Set by an interactive shell transport: runs each write so that it does not break the prompt
   * (clears the prompt line, writes, draws the prompt and the half-typed input again).
   */
  around: ((write: () => void) => void) | undefined;

  constructor(destination: LogDestination = 2, options: { format?: LogFormat; color?: boolean } = {}) {
    this.destination = destination;
    this.format = options.format ?? "json";
    this.color = options.color ?? false;
  }

  /** Adds secret values to scrub (see `SecretScrubber` for the forms caught). */
  addSecrets(values: Iterable<string | undefined>): void {
    this.scrubber.add(values);
  }

  scrub(line: string): string {
    return this.scrubber.scrub(line);
  }

  write(line: string): void {
    const scrubbed = this.scrub(line);
    const text = this.format === "pretty" ? formatPretty(scrubbed, this.color) : scrubbed;
    const destination = this.destination;
    const emit = typeof destination === "number" ? (): void => void writeSync(destination, text) : (): void => void destination.write(text);
    if (this.around) this.around(emit);
    else emit();
  }
}

/** A file descriptor (written synchronously), or a stream such as a test's capture of stderr. */
export type LogDestination = number | { write(text: string): unknown };

/**
 * The sink for a command's log on `stderr`: the process's own stderr is fd 2, written with
 * writeSync so nothing is lost when the process exits right after logging (process.stderr is
 * asynchronous on some platforms' pipes); any other stream (a command run inside a test) gets the
 * lines through its write().
 */
export function stderrSink(stderr: (Writable & { isTTY?: boolean }) | undefined, env: NodeJS.ProcessEnv): ScrubbingSink {
  return new ScrubbingSink(stderr === undefined || stderr === process.stderr ? 2 : stderr, logFormatFor(stderr, env));
}

/** JSON lines for machines (a pipe, systemd's journal); short lines for people (a terminal). */
export type LogFormat = "json" | "pretty";

/**
 * `LOG_FORMAT=json|pretty` when set; otherwise pretty on a terminal, JSON anywhere else. Colour on a
 * terminal unless NO_COLOR is set.
 */
export function logFormatFor(stream: { isTTY?: boolean } | undefined, env: NodeJS.ProcessEnv): { format: LogFormat; color: boolean } {
  const tty = Boolean(stream?.isTTY);
  const format: LogFormat = env.LOG_FORMAT === "json" || env.LOG_FORMAT === "pretty" ? env.LOG_FORMAT : tty ? "pretty" : "json";
  return { format, color: format === "pretty" && tty && !env.NO_COLOR };
}

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const LEVEL_COLORS: Readonly<Record<number, string>> = { 10: "90", 20: "90", 30: "36", 40: "33", 50: "31", 60: "35" };
/** Fields every line has, or that the pretty line shows in its own place. */
const PLACED = new Set(["level", "time", "instance", "msg", "component", "pid", "hostname"]);
const VALUE_CHARS = 100;

/**
 * One pino JSON line as `12:01:02 INFO  discord: online transport=shell`: local time, level,
 * component, message, then the other fields as key=value (long values cut, errors by message).
 * A line that is not JSON is passed through.
 */
export function formatPretty(line: string, color = false): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith("\n") ? line : `${line}\n`;
  }
  const level = typeof record.level === "number" ? record.level : 30;
  const time = typeof record.time === "number" ? new Date(record.time).toTimeString().slice(0, 8) : "";
  const name = (LEVEL_NAMES[level] ?? String(level)).padEnd(5);
  const shown = color ? `\x1b[${LEVEL_COLORS[level] ?? "0"}m${name}\x1b[0m` : name;
  const component = typeof record.component === "string" ? `${record.component}: ` : "";
  const fields = Object.entries(record)
    .filter(([key]) => !PLACED.has(key))
    .map(([key, value]) => `${key}=${prettyValue(value)}`);
  return `${[time, shown, `${component}${String(record.msg ?? "")}`, ...fields].filter((part) => part !== "").join(" ")}\n`;
}

function prettyValue(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = /^[^\s"=]*$/.test(value) && value !== "" ? value : JSON.stringify(value);
  else if (value !== null && typeof value === "object" && "message" in value && typeof value.message === "string") {
    // pino's serialized error: its type and message are what a person reads; the stack is in JSON mode.
    const type = "type" in value && typeof value.type === "string" ? `${value.type}: ` : "";
    const code = "code" in value && value.code !== undefined ? ` [${String(value.code)}]` : "";
    text = JSON.stringify(`${type}${value.message}${code}`);
  } else text = JSON.stringify(value) ?? String(value);
  return text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS - 1)}…` : text;
}

export function createLogger(options: { level: LevelWithSilent; sink: ScrubbingSink; name: string }): Logger {
  return pino(
    {
      level: options.level,
      base: { instance: options.name },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
    },
    options.sink,
  );
}
