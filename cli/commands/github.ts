import path from "node:path";
import { loadConfig } from "../../agent/config/load.ts";
import { loadSecrets } from "../../agent/config/secrets.ts";
import { createLogger, stderrSink } from "../../agent/log.ts";
import { MemoryError } from "../../agent/memory/errors.ts";
import { openMemoryStore } from "../../agent/memory/store.ts";
import { parseOptions, UsageError, type CliCommand, type CliIo } from "../io.ts";

const GITHUB_USAGE = [
  "github token                              print an installation token (or the PAT) to stdout, for scripts",
  "github digest --once [--json] [--now ISO] one monitor cycle; print what needs a maintainer (JSON lines with --json); posts nothing",
  "options: --config FILE, --root DIR (memory folder: the monitor's cursor and ETags)",
].join("\n");

/** The options and flags `github` accepts (test/docs.test.ts checks the docs against them). */
export const OPTIONS = ["config", "now", "root"] as const;
export const FLAGS = ["once", "json"] as const;

/**
 * `clawdinator github token|digest`. The token goes to stdout and nowhere else: the log sink
 * knows it as a secret, so no log line can carry it. The digest runs the agent's own monitor and
 * rules, with `--now` fixing the rules' clock, and posts nothing.
 */
export const command: CliCommand = {
  async run(args, io) {
    const { options, positional } = parseOptions(args, OPTIONS, FLAGS);
    const [action, ...extra] = positional;
    if (action === undefined || extra.length > 0) throw new UsageError(`usage:\n${GITHUB_USAGE}`);
    const { config, source } = await loadConfig(options.get("config") ?? io.env.CLAWDINATOR_CONFIG, io.cwd);
    const secrets = await loadSecrets(config, io.env, source);
    const sink = stderrSink(io.stderr, io.env);
    sink.addSecrets(Object.values(secrets));
    const log = createLogger({ level: config.logLevel === "info" ? "warn" : config.logLevel, sink, name: config.instance });
    const { credentialsFrom, openGithub } = await import("../../agent/github/open.ts");

    if (action === "token") {
      const credentials = credentialsFrom(config, secrets);
      if (credentials.kind === "anonymous") {
        throw new UsageError('no GitHub credentials: set "githubApp" {appId, installationId, privateKeyFile} or "github.tokenFile" in the config');
      }
      const { connectGithub } = await import("../../agent/github/auth.ts");
      const github = connectGithub(credentials, { baseUrl: config.endpoints.github, log, onToken: (t) => sink.addSecrets([t]) });
      const token = await github.token();
      io.stdout.write(`${token ?? ""}\n`);
      return 0;
    }
    if (action === "digest") {
      if (options.get("once") !== "true") throw new UsageError("github digest runs one cycle and needs --once (the scheduled digest is part of `clawdinator run`)");
      const nowText = options.get("now");
      const now = nowText === undefined ? new Date() : new Date(nowText);
      if (Number.isNaN(now.getTime())) throw new UsageError(`--now "${nowText}" is not a time; use ISO 8601, e.g. --now 2026-11-24T09:00:00Z`);
      if (config.github.repos.length === 0) throw new UsageError('no repos to watch: set "github.repos" in the config, e.g. ["openclaw/openclaw"]');
      const memory = await openStore(config.memoryDir, options.get("root"), config.instance, io);
      const github = openGithub({ config, secrets, memory, log, now: () => now, onSecret: (t) => sink.addSecrets([t]) });
      const results = await github.cycle();
      const flagged = github.monitor.flagged(now);
      if (options.get("json") === "true") {
        const { toLine } = await import("../../agent/github/types.ts");
        for (const item of flagged) io.stdout.write(`${JSON.stringify(toLine(item))}\n`);
      } else {
        const { renderTriage } = await import("../../agent/github/digest.ts");
        io.stdout.write(`${renderTriage(flagged, flagged.length || 1)}\n`);
      }
      const failed = results.filter((r) => !r.ok);
      for (const r of failed) io.stderr.write(`clawdinator: github: ${r.repo}: ${errorText(r.error)} (its items are as of the last good cycle)\n`);
      return failed.length > 0 ? 1 : 0;
    }
    throw new UsageError(`unknown github action "${action}":\n${GITHUB_USAGE}`);
  },
};

async function openStore(memoryDir: string, root: string | undefined, instance: string, io: CliIo): Promise<Awaited<ReturnType<typeof openMemoryStore>>> {
  const explicit = root ?? io.env.CLAWDINATOR_MEMORY_DIR;
  try {
    return await openMemoryStore({ root: explicit ? path.resolve(io.cwd, explicit) : memoryDir, instance });
  } catch (error) {
    if (error instanceof MemoryError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split("\n")[0] ?? ""}`;
  return String(error);
}
