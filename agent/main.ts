import type { Readable, Writable } from "node:stream";
import packageJson from "../package.json" with { type: "json" };
import { NotConfiguredBrain } from "./brain/not-configured.ts";
import type { Brain } from "./brain/types.ts";
import { codeCommand } from "./coding/command.ts";
import type { CodingService } from "./coding/service.ts";
import { BUILTIN_COMMANDS } from "./commands/builtin.ts";
import type { Command } from "./commands/types.ts";
import { ConfigError } from "./config/errors.ts";
import { routeConsoleToLog } from "./console.ts";
import { loadConfig } from "./config/load.ts";
import type { Config } from "./config/schema.ts";
import { howToConfigure, loadSecrets, type SecretFileWarning, type Secrets } from "./config/secrets.ts";
import type { GithubRuntime } from "./github/open.ts";
import { createLogger, stderrSink, type ScrubbingSink, type Logger } from "./log.ts";
import { MemoryError } from "./memory/errors.ts";
import { seedMemory, type SeedResult } from "./memory/seed.ts";
import { openMemoryStore, type FileMemoryStore } from "./memory/store.ts";
import type { MemoryStore } from "./memory/types.ts";
import type { GatewayReporter } from "./ops/gateway-report.ts";
import type { Tool } from "./tools/registry.ts";
import { startRouting } from "./router.ts";
import type { IntegrationStatus, StatusReport } from "./status.ts";
import { ShellTransport } from "./transport/shell.ts";
import type { Transport } from "./transport/types.ts";

export const VERSION: string = packageJson.version;

/** Everything the agent takes from its surroundings; the CLI entry passes the real process's. */
export interface AgentIo {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  /**
   * Where the log goes (the process's own stderr is written as fd 2): on a terminal it gets short
   * readable lines, elsewhere JSON.
   */
  readonly stderr?: Writable & { isTTY?: boolean };
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
}

export interface AgentOptions {
  readonly configPath?: string;
  /** `--log-level` / `LOG_LEVEL`: wins over the config's `logLevel`. */
  readonly logLevel?: Config["logLevel"];
}

/**
 * The composition root: config, secrets, logger, transport, brain, router. Returns when the
 * transport finishes (end of input) or the signal aborts; always after the last reply was sent.
 */
export async function runAgent(options: AgentOptions, io: AgentIo): Promise<void> {
  const startedAt = new Date();
  const { config, source } = await loadConfig(options.configPath ?? io.env.CLAWDINATOR_CONFIG, io.cwd);
  const warnings: SecretFileWarning[] = [];
  const secrets = await loadSecrets(config, io.env, source, (warning) => warnings.push(warning));
  const sink = stderrSink(io.stderr, io.env);
  sink.addSecrets(Object.values(secrets));
  const log = createLogger({ level: options.logLevel ?? config.logLevel, sink, name: config.instance });
  for (const { message, ...where } of warnings) log.warn(where, message);
  const restoreConsole = routeConsoleToLog(log);
  try {
    await serve({ config, source, secrets, sink, log, io, startedAt });
  } finally {
    restoreConsole();
  }
}

interface Surroundings {
  readonly config: Config;
  readonly source: string;
  readonly secrets: Secrets;
  readonly sink: ScrubbingSink;
  readonly log: Logger;
  readonly io: AgentIo;
  readonly startedAt: Date;
}

/** Opens memory, transport, brain and router, and serves until the transport ends or the signal aborts. */
async function serve({ config, source, secrets, sink, log, io, startedAt }: Surroundings): Promise<void> {
  const memory = await openMemory(config, source, log);
  const coding = await createCoding(config, secrets, memory.store, log);
  const github = await openGithubIfConfigured(config, secrets, memory.store, sink, log);
  const commands: readonly Command[] = [...BUILTIN_COMMANDS, codeCommand(coding.service, coding.status.detail), ...(github?.commands() ?? [])];

  // The health report (status/<instance>.json), on an instance only: `status.bucket` is set there.
  const { startGatewayReport } = await import("./ops/gateway-report.ts");
  const report = await startGatewayReport({
    config,
    secrets,
    version: VERSION,
    transport: secrets.discordToken ? "discord" : "shell",
    log: log.child({ component: "status" }),
    env: io.env,
  });
  if (report && github) github.reportFailuresTo((error) => report.error("github", error));

  const transport = await createTransport(config, secrets, io, log, commands, report);
  // Log lines and the shell's prompt share the terminal: each line is written above the prompt.
  if (transport instanceof ShellTransport) sink.around = (write) => transport.aboveThePrompt(write);
  // `status` is read lazily by the brain's status tool, after it exists.
  const brain = await createBrain({
    config,
    source,
    secrets,
    log,
    memory: memory.store,
    status: () => status(),
    scrub: (text) => sink.scrub(text),
    coding: coding.service,
    ...(report ? { onModelFailure: (error: unknown) => report.error("model", error) } : {}),
    tools: github?.tools(),
    context: github?.contextText(),
  });
  const status = (): StatusReport => ({
    instance: config.instance,
    version: VERSION,
    transport: transport.name,
    configSource: source,
    startedAt,
    integrations: integrationStatus(config, secrets, brain, transport, memory, coding.status, github),
  });

  try {
    await startRouting({ transport, config, commands, brain, log, status, scrub: (text) => sink.scrub(text) });
  } catch (error) {
    // The reason goes in the report before the process exits (a rejected token, a login timeout).
    const code = error !== null && typeof error === "object" && "code" in error && typeof error.code === "string" ? error.code : "start-failed";
    await report?.stop({ state: "disconnected", reason: code });
    throw error;
  }
  if (transport.name !== "discord") report?.state("connected");
  log.info({ transport: transport.name, config: source }, "online");
  // The monitor, the scheduled digest (posted by the transport, never through the model) and the seed refresh.
  github?.start(transport.post?.bind(transport));

  const aborted = new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await Promise.race([transport.finished, aborted]);
  await transport.stop();
  await github?.stop();
  sink.around = undefined;
  await report?.stop();
  // Gists of the last answers may still be on their way to the hive mind.
  await brain.flush?.();
  log.info({ uptimeMs: Date.now() - startedAt.getTime() }, "stopped");
}

/** Discord when a token is set (discord.js, ~200 ms to load, is imported only then), the shell otherwise. */
async function createTransport(
  config: Config,
  secrets: Secrets,
  io: AgentIo,
  log: Logger,
  commands: readonly Command[],
  report: GatewayReporter | undefined,
): Promise<Transport> {
  if (secrets.discordToken) {
    const { DiscordTransport } = await import("./transport/discord.ts");
    const { users, roles } = config.access.maintainers;
    if (users.length === 0 && roles.length === 0) {
      log.warn('no maintainers configured: nobody on Discord will get an answer (set "access.maintainers.users" or ".roles")');
    }
    if (Object.keys(config.discord.guilds).length === 0) {
      log.warn('no Discord guilds configured: every guild message is ignored (set "discord.guilds")');
    }
    return new DiscordTransport({
      token: secrets.discordToken,
      apiBase: config.endpoints.discordApi,
      discord: config.discord,
      instance: config.instance,
      commands,
      log: log.child({ component: "discord" }),
      ...(report ? { onStateChange: (state: "connected" | "disconnected", reason: string | null) => report.state(state, reason) } : {}),
    });
  }
  return new ShellTransport({
    input: io.stdin,
    output: io.stdout,
    interactive: Boolean(io.stdin.isTTY && io.stdout.isTTY),
    instance: config.instance,
    user: io.env.USER,
  });
}

/** Claude when an Anthropic key is set (its SDK is loaded only then), the "not configured" brain otherwise. */
async function createBrain(deps: {
  config: Config;
  source: string;
  secrets: Secrets;
  log: Logger;
  memory: MemoryStore;
  status: () => StatusReport;
  scrub: (text: string) => string;
  coding: CodingService | undefined;
  tools?: readonly Tool[];
  context?: string;
}): Promise<Brain> {
  const { anthropicApiKey } = deps.secrets;
  if (!anthropicApiKey) return new NotConfiguredBrain();
  const { openClaudeBrain } = await import("./brain/open.ts");
  const extraTools = [...(deps.coding ? [(await import("./coding/tool.ts")).codeTaskTool(deps.coding)] : []), ...(deps.tools ?? [])];
  // fleet_spawn only where an operator pointed the agent at a checkout with the stacks (never on an instance).
  const { projectDir, command } = deps.config.spawn;
  if (projectDir) extraTools.push(await import("./ops/spawn-tool.ts").then((m) => m.fleetSpawnTool(m.commandSpawner({ projectDir, command }))));
  return openClaudeBrain({ ...deps, apiKey: anthropicApiKey, log: deps.log.child({ component: "brain" }), extraTools });
}

/**
 * The coding model and its sandbox when an OpenAI key is set (the SDK is loaded only then). A
 * sandbox that cannot run (bubblewrap missing) leaves coding off with an error in the log and in
 * `status`: model-written code never runs unsandboxed.
 */
async function createCoding(
  config: Config,
  secrets: Secrets,
  memory: MemoryStore,
  log: Logger,
): Promise<{ service: CodingService | undefined; status: IntegrationStatus }> {
  const apiKey = secrets.openaiApiKey;
  if (!apiKey) {
    return { service: undefined, status: { name: "openai", state: "offline", detail: `coding is not configured: no OpenAI API key (${howToConfigure("openaiApiKey")})` } };
  }
  const { openCoding } = await import("./coding/open.ts");
  const { SandboxUnavailableError } = await import("./sandbox/runner.ts");
  try {
    const service = await openCoding({ config, apiKey, memory, log });
    return {
      service,
      status: {
        name: "openai",
        state: "configured",
        detail: `coding with ${config.models.code} at ${config.endpoints.openai}; sandbox bubblewrap; targets ${service.targets.join(", ")}`,
      },
    };
  } catch (error) {
    if (!(error instanceof SandboxUnavailableError)) throw error;
    log.error({ component: "coding", err: error }, "coding is off: the sandbox cannot run");
    return { service: undefined, status: { name: "openai", state: "offline", detail: `coding is off, the sandbox cannot run: ${error.message}` } };
  }
}

/** How long start-up waits for missing repo seeds to clone (the clone goes on in the background after). */
const SEED_WAIT_MS = 60_000;

/**
 * GitHub when it has credentials or repos (octokit is imported only then): the monitor, the
 * digest, the read-only tools, and the repo docs for the model's context.
 */
async function openGithubIfConfigured(config: Config, secrets: Secrets, memory: MemoryStore, sink: ScrubbingSink, log: Logger): Promise<GithubRuntime | undefined> {
  if (!(config.githubApp && secrets.githubAppPrivateKey) && !secrets.githubToken && config.github.repos.length === 0) return undefined;
  const { openGithub } = await import("./github/open.ts");
  const github = openGithub({ config, secrets, memory, log, onSecret: (token) => sink.addSecrets([token]) });
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), SEED_WAIT_MS)));
  const prepared = github.prepare().then(
    () => "ready" as const,
    (error: unknown) => {
      log.warn({ component: "github", err: error }, "github: preparing the repo seeds failed; code search and project docs wait for the next refresh");
      return "failed" as const;
    },
  );
  if ((await Promise.race([prepared, waited])) === "timeout") log.warn({ component: "github" }, "github: repo seeds still cloning; the project docs join the context at the next start");
  clearTimeout(timer);
  return github;
}

/**
 * Opens the hive-mind memory on `memoryDir` (the EFS mount on an instance) and seeds it from the
 * repository's `memory/` templates when it is empty. An unusable root stops the agent with a
 * ConfigError naming `memoryDir`; a failed seed only warns (the memory still works without templates).
 */
async function openMemory(config: Config, source: string, log: Logger): Promise<{ store: FileMemoryStore; seed: SeedResult | undefined }> {
  let store: FileMemoryStore;
  try {
    store = await openMemoryStore({ root: config.memoryDir, instance: config.instance, ...config.memory });
  } catch (error) {
    if (!(error instanceof MemoryError)) throw error;
    throw new ConfigError(source, [{ field: "memoryDir", problem: error.problem, fix: error.fix }]);
  }
  try {
    const seed = await seedMemory(store);
    if (seed.created.length > 0) log.info({ component: "memory", root: store.root, created: seed.created }, "seeded the hive-mind memory");
    const leftovers = await store.sweepLeftovers();
    if (leftovers.length > 0) log.info({ component: "memory", removed: leftovers }, "removed temp files of writers that died mid-write");
    const claims = await store.sweepExpiredClaims();
    if (claims.length > 0) log.info({ component: "memory", removed: claims.length }, "removed claims a week past their expiry");
    return { store, seed };
  } catch (error) {
    log.warn({ component: "memory", root: store.root, err: error }, "could not seed (or tidy) the hive-mind memory");
    return { store, seed: undefined };
  }
}

function integrationStatus(
  config: Config,
  secrets: Secrets,
  brain: Brain,
  transport: Transport,
  memory: { store: FileMemoryStore; seed: SeedResult | undefined },
  coding: IntegrationStatus,
  github: GithubRuntime | undefined,
): IntegrationStatus[] {
  return [
    (secrets.discordToken && transport.status?.()) || {
      name: "discord",
      state: "offline",
      detail: `no token, talking on the shell: ${howToConfigure("discordToken")}`,
    },
    brain.status,
    coding,
    github?.status() ?? {
      name: "github",
      state: "offline",
      detail: 'not configured: set "github.repos" to watch, and "githubApp" {appId, installationId, privateKeyFile} (or "github.tokenFile") to authenticate',
    },
    {
      name: "memory",
      state: "configured",
      detail: `hive mind at ${memory.store.root}${memory.seed?.created.length ? ` (seeded ${memory.seed.created.length} templates at start)` : ""}`,
    },
  ];
}
