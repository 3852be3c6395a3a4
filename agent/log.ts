import { writeSync } from "node:fs";
import { pino, type Logger, type LevelWithSilent } from "pino";

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
 * A line sink that removes every known secret value before the line reaches stderr. Key-based
 * redaction alone misses a token quoted inside an error message; scrubbing by value does not.
 * Writes are synchronous, so nothing is lost when the process exits right after logging.
 */
export class ScrubbingSink {
  private needles: string[] = [];
  private readonly fd: number;

  constructor(fd = 2) {
    this.fd = fd;
  }

  /** Adds secret values to scrub, in raw and JSON-escaped forms, and each long line of a multi-line secret (a PEM key). */
  addSecrets(values: Iterable<string | undefined>): void {
    for (const value of values) {
      if (!value || value.length < 4) continue;
      const forms = [value, JSON.stringify(value).slice(1, -1)];
      for (const line of value.split("\n")) if (line.trim().length >= 16) forms.push(line.trim());
      this.needles.push(...forms);
    }
    // Longest first, so a secret that contains another is removed whole.
    this.needles = [...new Set(this.needles)].sort((a, b) => b.length - a.length);
  }

  scrub(line: string): string {
    let out = line;
    for (const needle of this.needles) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    return out;
  }

  write(line: string): void {
    writeSync(this.fd, this.scrub(line));
  }
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
