import { formatWithOptions } from "node:util";
import type { Logger } from "./log.ts";

/**
 * Client libraries print to the console on their own (the Anthropic SDK warns about deprecated
 * models with console.warn). Left alone, that text would break the JSON-only log on stderr and,
 * from console.log, interleave with the shell transport's answers on stdout. While the agent runs,
 * every console method becomes a log line (scrubbed like any other); the returned function restores them.
 */
export function routeConsoleToLog(log: Logger): () => void {
  const consoleLog = log.child({ component: "console" });
  const methods = ["log", "info", "debug", "warn", "error", "trace"] as const;
  const saved = methods.map((name) => [name, console[name]] as const);
  const write = (level: "debug" | "info" | "warn" | "error") =>
    (...args: unknown[]): void => consoleLog[level](formatWithOptions({ colors: false, breakLength: Infinity }, ...args));
  console.log = write("info");
  console.info = write("info");
  console.debug = write("debug");
  console.trace = write("debug");
  console.warn = write("warn");
  console.error = write("error");
  return () => {
    for (const [name, original] of saved) console[name] = original;
  };
}
