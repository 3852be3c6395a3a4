// Debian's awscli v2 as a second, independent AWS client, kept running: its Python start-up and
// imports cost about 1.3 s of CPU per `aws` process, which made one protocol test a tenth of the
// suite. Each command still runs through awscli's own entry point with a fresh botocore session
// (test/helpers/awscli-driver.py).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const DRIVER = path.join(path.dirname(fileURLToPath(import.meta.url)), "awscli-driver.py");

export interface AwsCliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface AwsCli {
  /** `aws ARGS...`; commands run one at a time, in the order asked. */
  run(args: readonly string[]): Promise<AwsCliResult>;
  close(): Promise<void>;
}

/** The interpreter the `aws` script runs with (its `#!` line), so the driver imports the same awscli. */
function interpreterOf(awsScript: string): string {
  const firstLine = readFileSync(awsScript, "utf8").split("\n", 1)[0] ?? "";
  const match = /^#!\s*(\S+)/.exec(firstLine);
  if (!match?.[1]) throw new Error(`${awsScript} is not a Python script with a #! line; cannot run awscli in process`);
  return match[1];
}

export function startAwsCli(awsScript: string, env: NodeJS.ProcessEnv): AwsCli {
  const child = spawn(interpreterOf(awsScript), [DRIVER], { env, stdio: ["pipe", "pipe", "inherit"] });
  const waiting: Array<{ resolve: (result: AwsCliResult) => void; reject: (error: Error) => void }> = [];
  let failure: Error | undefined;
  const failAll = (error: Error): void => {
    failure ??= error;
    for (const pending of waiting.splice(0)) pending.reject(failure);
  };
  createInterface({ input: child.stdout }).on("line", (line) => {
    const pending = waiting.shift();
    if (pending === undefined) return failAll(new Error(`awscli driver said more than asked: ${line.slice(0, 200)}`));
    pending.resolve(JSON.parse(line) as AwsCliResult);
  });
  child.on("error", failAll);
  child.on("exit", (code, signal) => failAll(new Error(`awscli driver exited (${signal ?? code})`)));
  return {
    run(args) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(args)}\n`);
      });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin.end();
      await exited;
    },
  };
}
