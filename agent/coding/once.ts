import { stat } from "node:fs/promises";
import path from "node:path";
import type { Writable } from "node:stream";
import { loadConfig } from "../config/load.ts";
import { howToConfigure, loadSecrets } from "../config/secrets.ts";
import { createLogger, stderrSink } from "../log.ts";
import { openMemoryStore } from "../memory/store.ts";
import { SandboxUnavailableError } from "../sandbox/runner.ts";
import { renderReply } from "../transport/shell.ts";

export interface CodeOnceOptions {
  readonly request: string;
  /** A target name (a configured repo, `self`, `workspace`, `memory`) or a folder to use as the seed. */
  readonly repo?: string;
  readonly configPath?: string;
}

export interface CodeOnceIo {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
  /** `--log-level` / LOG_LEVEL from the entry; unset: the config's. */
  readonly logLevel?: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

/**
 * `clawdinator code "<request>" --repo <seed>`: one coding task from the terminal, on the same
 * config, secrets, sandbox and coding model as the agent, printing what it would post (the report
 * and the patch). Returns the exit code: 0 done (whatever the task's outcome), 2 not configured.
 */
export async function runCodeOnce(options: CodeOnceOptions, io: CodeOnceIo): Promise<number> {
  const { config, source } = await loadConfig(options.configPath ?? io.env.CLAWDINATOR_CONFIG, io.cwd);
  const secrets = await loadSecrets(config, io.env, source);
  if (!secrets.openaiApiKey) {
    io.stderr.write(`clawdinator: coding is not configured: no OpenAI API key; ${howToConfigure("openaiApiKey")}\n`);
    return 2;
  }
  const sink = stderrSink(io.stderr, io.env);
  sink.addSecrets(Object.values(secrets));
  const log = createLogger({ level: io.logLevel ?? config.logLevel, sink, name: config.instance });
  // A folder given as --repo becomes a seed of its own, named after it.
  let target = options.repo;
  let repos = config.coding.repos;
  if (target !== undefined && (target.includes("/") || target === ".")) {
    const dir = path.resolve(io.cwd, target);
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
      io.stderr.write(`clawdinator: --repo ${target}: no such folder\n`);
      return 2;
    }
    target = "cli";
    repos = { ...repos, cli: dir };
  }
  const memory = await openMemoryStore({ root: config.memoryDir, instance: config.instance, ...config.memory });
  const { openCoding } = await import("./open.ts");
  let service;
  try {
    service = await openCoding({ config: { ...config, coding: { ...config.coding, repos } }, apiKey: secrets.openaiApiKey, memory, log });
  } catch (error) {
    if (!(error instanceof SandboxUnavailableError)) throw error;
    io.stderr.write(`clawdinator: coding is off, the sandbox cannot run: ${error.message}\n`);
    return 2;
  }
  const report = await service.run(options.request, target, "cli");
  io.stdout.write(`${renderReply({ text: report.text, files: report.files })}\n`);
  return 0;
}
