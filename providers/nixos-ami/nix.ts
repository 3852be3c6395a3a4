// Runs the `nix` command: output captured, the tail of the log kept for errors.
import { spawn } from "node:child_process";
import { ImagePipelineError } from "./errors.ts";

const LOG_TAIL_LINES = 30;

export interface NixRun {
  readonly stdout: string;
}

export interface NixOptions {
  readonly signal?: AbortSignal;
  /** Each stderr line as it arrives (build progress). */
  readonly onLogLine?: (line: string) => void;
}

/** `nix <args>` with flakes enabled; rejects with NIX_MISSING or NIX_FAILED (with the log's tail). */
export function runNix(nixBinary: string, args: readonly string[], options: NixOptions = {}): Promise<NixRun> {
  const fullArgs = ["--extra-experimental-features", "nix-command flakes", ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(nixBinary, fullArgs, { stdio: ["ignore", "pipe", "pipe"], signal: options.signal });
    let stdout = "";
    const tail: string[] = [];
    let partial = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        tail.push(line);
        if (tail.length > LOG_TAIL_LINES) tail.shift();
        options.onLogLine?.(line);
      }
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") {
        reject(
          new ImagePipelineError("NIX_MISSING", `nix was not found as "${nixBinary}": install Nix (https://nixos.org/download) or set nixBinary to its path`, { nixBinary }, { cause: error }),
        );
      } else reject(new ImagePipelineError("NIX_FAILED", `could not run ${nixBinary}: ${error.message}`, { nixBinary }, { cause: error }));
    });
    child.on("close", (code, signal) => {
      if (partial !== "") tail.push(partial);
      if (code === 0) return resolve({ stdout });
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const log = tail.length > 0 ? `\n--- last ${tail.length} lines of the nix log ---\n${tail.join("\n")}` : "";
      reject(new ImagePipelineError("NIX_FAILED", `\`${nixBinary} ${args.join(" ")}\` ${how}${log}`, { nixBinary, exitCode: code ?? undefined }));
    });
  });
}
