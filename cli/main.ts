// The `clawdinator` process (cli/clawdinator.js starts it; the bundle's entry): the only file that
// touches the process. It hands the command line its argv, streams, environment and an abort
// signal for SIGINT/SIGTERM, and exits with the code it returns.
import { runCommandLine } from "./command-line.ts";

const controller = new AbortController();
const stop = (): void => controller.abort();
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

const code = await runCommandLine(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
process.exitCode = code;
// Sockets and timers of lazily loaded clients must not keep a finished command alive.
setImmediate(() => process.exit(code));
