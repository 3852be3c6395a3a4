import { z } from "zod";
import { ATTENTION_DEFAULTS, GITHUB_DEFAULTS } from "../github/defaults.ts";
import { MEMORY_DEFAULTS } from "../memory/defaults.ts";
import { SANDBOX_LIMITS } from "../sandbox/limits.ts";

/**
 * The agent's configuration: the `config.json` of an instance's bootstrap bundle (infra/bundle.ts
 * writes it; a NixOS module writing it from `services.clawdinator.config` is not built yet), and
 * the file a local run may pass with `--config`.
 * Secrets never appear here inline, only as paths to files (`*File` keys).
 * Every key has a default, so an empty object (or no file at all) is a working local setup.
 */

export const INSTANCE_NAME = /^CLAWDINATOR-[1-9][0-9]{0,3}$/;

const httpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .describe("base URL");

export const EndpointsSchema = z.strictObject({
  /** Discord REST base; discord.js appends `/v10`. */
  discordApi: httpUrl.default("https://discord.com/api"),
  /** Anthropic API base (the SDK appends `/v1/messages`). */
  anthropic: httpUrl.default("https://api.anthropic.com"),
  /** OpenAI-compatible API base, including `/v1`: the coding model's (agent/coding/). */
  openai: httpUrl.default("https://api.openai.com/v1"),
  /** GitHub REST base; set it for GitHub Enterprise Server (`https://HOST/api/v3`). */
  github: httpUrl.default("https://api.github.com"),
});

export const ModelsSchema = z.strictObject({
  /** Claude model that gives CLAWDINATOR its voice. */
  voice: z.string().min(1).default("claude-sonnet-5-5"),
  /** OpenAI/Codex model that writes and runs code (agent/coding/), through the Responses API. */
  code: z.string().min(1).default("gpt-5-codex"),
});

/** The Claude brain's limits (agent/brain/claude.ts). */
export const BrainSchema = z.strictObject({
  /** Most model calls for one message; each tool round trip is one more. */
  maxSteps: z.number().int().min(1).max(32).default(8),
  /** Most earlier messages (user + assistant) of a conversation replayed to the model. */
  contextMessages: z.number().int().min(0).max(200).default(20),
  /** Most characters of earlier messages replayed per conversation (~4 characters per token). */
  contextChars: z.number().int().min(0).max(400_000).default(24_000),
  /** Estimated tokens (characters / 4) of the system prompt distilled from the workspace. */
  systemPromptTokenBudget: z.number().int().min(200).max(50_000).default(3_000),
  /** `max_tokens` of each model call. */
  maxOutputTokens: z.number().int().min(64).max(32_000).default(1_500),
  /** Per model request; the SDK's `timeout`. */
  timeoutMs: z.number().int().min(1).max(600_000).default(60_000),
  /** Retries on 429, 5xx, 529 overloaded, timeouts and connection errors; the SDK's `maxRetries`. */
  maxRetries: z.number().int().min(0).max(10).default(2),
  /**
   * One whole turn (all model calls, retries and tools for one message); at the deadline the
   * request in flight is cancelled, no further tool runs, and the maintainer is told.
   */
  turnTimeoutMs: z.number().int().min(1_000).max(3_600_000).default(180_000),
});

/** Limits of every sandboxed command (agent/sandbox/runner.ts; docs/SANDBOX.md). */
export const SandboxSchema = z.strictObject({
  /** The bubblewrap executable (a name on PATH, or a path). */
  bwrap: z.string().min(1).default("bwrap"),
  /** Wall-clock limit of one command, ms; the whole process tree is killed at it. */
  wallTimeMs: z.number().int().min(100).max(3_600_000).default(SANDBOX_LIMITS.wallTimeMs),
  /** CPU seconds of one process (RLIMIT_CPU). */
  cpuSeconds: z.number().int().min(1).max(3_600).default(SANDBOX_LIMITS.cpuSeconds),
  /** Writable private memory per process, bytes (RLIMIT_DATA). */
  memoryBytes: z.number().int().min(16_777_216).default(SANDBOX_LIMITS.memoryBytes),
  /** Processes and threads of the sandbox's uid (RLIMIT_NPROC). */
  processes: z.number().int().min(4).max(4_096).default(SANDBOX_LIMITS.processes),
  /** Largest file a command may write, bytes (RLIMIT_FSIZE). */
  fileSizeBytes: z.number().int().min(4_096).default(SANDBOX_LIMITS.fileSizeBytes),
  /** Output kept per command, bytes; past it the command is killed. */
  outputBytes: z.number().int().min(1_024).max(67_108_864).default(SANDBOX_LIMITS.outputBytes),
});

/** The coding model and its tasks (agent/coding/); on only when an OpenAI key is set. */
export const CodingSchema = z.strictObject({
  /** Repository seeds by name → a local folder copied for each task. `self` (the agent's own source) is always there. */
  repos: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, { error: "must be a short lowercase name" }), z.string().min(1)).default({}),
  /** The target of a request that names none: a repo name, "workspace" or "memory". */
  defaultTarget: z.string().min(1).default("self"),
  /** Where task folders are made (each removed after its report). */
  workDir: z.string().min(1).default(".clawdinator/tasks"),
  /** Keep task folders after the report, for debugging. */
  keepTasks: z.boolean().default(false),
  /** Most coding-model calls in one task. */
  maxSteps: z.number().int().min(1).max(100).default(24),
  /** Most tokens (input + output) over one task. */
  maxTokens: z.number().int().min(1_000).max(10_000_000).default(500_000),
  /** `max_output_tokens` of each call. */
  maxOutputTokens: z.number().int().min(256).max(128_000).default(8_000),
  /**
   * One whole task (model calls and commands), ms. Keep it under `brain.turnTimeoutMs` when Claude
   * starts tasks (its code_task tool), or the turn ends before the report arrives.
   */
  taskTimeoutMs: z.number().int().min(1_000).max(3_600_000).default(150_000),
  /** Per model request, ms; the SDK's `timeout`. */
  requestTimeoutMs: z.number().int().min(1).max(600_000).default(120_000),
  /** Retries on 429, 5xx, timeouts and connection errors; the SDK's `maxRetries`. */
  maxRetries: z.number().int().min(0).max(10).default(2),
  /** Stream responses (SSE) instead of waiting for whole ones. */
  stream: z.boolean().default(false),
  sandbox: SandboxSchema.default(SandboxSchema.parse({})),
});

export const GithubAppSchema = z.strictObject({
  appId: z.number().int().positive(),
  installationId: z.number().int().positive(),
  privateKeyFile: z.string().min(1),
});

const githubLogin = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/, { error: "must be a GitHub login" });
const githubRepoName = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { error: 'must be "owner/name"' });

/** A repository the agent monitors and reads: `"owner/name"`, or with its own maintainer logins. */
export const GithubRepoSchema = z.union([
  githubRepoName,
  z.strictObject({ name: githubRepoName, maintainers: z.array(githubLogin).default([]) }),
]);

const hours = (fallback: number): z.ZodDefault<z.ZodNumber> => z.number().positive().max(24 * 3650).default(fallback);

/** GitHub: what to monitor and read, and how (agent/github, docs/GITHUB.md). Credentials: `githubApp`, or `tokenFile`, or none (public data). */
export const GithubSchema = z.strictObject({
  /** Repos to monitor for the attention digest and to give the model as context. Empty: no monitor. */
  repos: z.array(GithubRepoSchema).default([]),
  /** Logins that are maintainers of every repo, besides OWNER, MEMBER and COLLABORATOR. */
  maintainers: z.array(githubLogin).default([]),
  /** A personal access token in a file, used when there is no `githubApp` (local runs). */
  tokenFile: z.string().min(1).optional(),
  /** Seconds between monitor cycles. */
  pollSeconds: z.number().int().min(10).max(86_400).default(GITHUB_DEFAULTS.pollSeconds),
  digest: z
    .strictObject({
      /** Discord channel (id or name, in an allowed guild) for the scheduled digest; null: no scheduled digest ("triage" still answers). */
      channel: z.string().min(1).nullable().default(null),
      /** Minutes between scheduled digests. */
      everyMinutes: z.number().int().min(1).max(10_080).default(GITHUB_DEFAULTS.digestMinutes),
      /** Most items in one digest or triage answer. */
      maxItems: z.number().int().min(1).max(50).default(GITHUB_DEFAULTS.digestMaxItems),
    })
    .default({ channel: null, everyMinutes: GITHUB_DEFAULTS.digestMinutes, maxItems: GITHUB_DEFAULTS.digestMaxItems }),
  /** Thresholds of the attention rules (hours or days, as named). */
  attention: z
    .strictObject({
      newIssueMinHours: hours(ATTENTION_DEFAULTS.newIssueMinHours),
      newIssueMaxDays: hours(ATTENTION_DEFAULTS.newIssueMaxDays),
      reviewWaitingHours: hours(ATTENTION_DEFAULTS.reviewWaitingHours),
      firstTimeContributorHours: hours(ATTENTION_DEFAULTS.firstTimeContributorHours),
      approvedNotMergedHours: hours(ATTENTION_DEFAULTS.approvedNotMergedHours),
      stalePrDays: hours(ATTENTION_DEFAULTS.stalePrDays),
    })
    .default({ ...ATTENTION_DEFAULTS }),
  /** Repo seeds: local clones of `repos` for code search and the context docs. */
  seeds: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Where the clones live. */
      dir: z.string().min(1).default(".clawdinator/repos"),
      /** Minutes between fetches. */
      refreshMinutes: z.number().int().min(1).max(10_080).default(GITHUB_DEFAULTS.seedRefreshMinutes),
      /** Clone URL with `{owner}` and `{repo}`; unset: derived from `endpoints.github` (github.com or the Enterprise host). */
      cloneUrl: z.string().min(1).optional(),
    })
    .default({ enabled: true, dir: ".clawdinator/repos", refreshMinutes: GITHUB_DEFAULTS.seedRefreshMinutes }),
  /** Project docs loaded into the model's context from the seeds (first repo first), within a budget. */
  contextDocs: z
    .strictObject({
      files: z.array(z.string().min(1)).default(["PHILOSOPHY.md", "docs/PHILOSOPHY.md", "ARCHITECTURE.md", "docs/ARCHITECTURE.md"]),
      /** Estimated tokens (characters / 4). */
      tokenBudget: z.number().int().min(0).max(50_000).default(GITHUB_DEFAULTS.contextTokenBudget),
    })
    .default({ files: ["PHILOSOPHY.md", "docs/PHILOSOPHY.md", "ARCHITECTURE.md", "docs/ARCHITECTURE.md"], tokenBudget: GITHUB_DEFAULTS.contextTokenBudget }),
});

/** A Discord snowflake: a user, role, guild or channel id. */
const discordId = z.string().regex(/^[0-9]{1,20}$/, { error: "must be a Discord id (digits only)" });

export const DiscordChannelRuleSchema = z.strictObject({
  /** Whether CLAWDINATOR reads and answers in this channel (and its threads). */
  allow: z.boolean().default(true),
  /** Answer only when mentioned or replied to; unset: the guild's `requireMention`. */
  requireMention: z.boolean().optional(),
});

export const DiscordGuildSchema = z.strictObject({
  /** Default for the guild's channels. */
  requireMention: z.boolean().default(true),
  /** Channel id or name (`clawdributors-test`) → rule. Channels not listed are ignored. */
  channels: z.record(z.string().min(1), DiscordChannelRuleSchema).default({}),
});

export const DiscordSchema = z.strictObject({
  /** Guild id → rules. Guilds not listed are ignored (and get no slash commands). */
  guilds: z.record(discordId, DiscordGuildSchema).default({}),
  /** Direct messages: off by default; when on, only maintainers listed by user id are answered. */
  dm: z.strictObject({ enabled: z.boolean().default(false) }).default({ enabled: false }),
  /** Channel (name or id) where the instance announces itself on connect; null: no announcement. */
  startChannel: z.string().min(1).nullable().default("clawdributors-test"),
});

export const AccessSchema = z.strictObject({
  /** Who gets answers and model calls on Discord. The shell operator always does. */
  maintainers: z
    .strictObject({ users: z.array(discordId).default([]), roles: z.array(discordId).default([]) })
    .default({ users: [], roles: [] }),
  /** The one short answer a non-maintainer gets when addressing the bot; null: silence. */
  refusal: z.string().min(1).max(2000).nullable().default("I only take orders from maintainers."),
  /** A non-maintainer is refused at most once per this many seconds; in between, silence. */
  refusalCooldownSeconds: z.number().int().nonnegative().default(600),
});

/** A token bucket: `burst` requests at once, refilled at `perMinute`. */
const RateBucketSchema = z.strictObject({
  burst: z.number().int().positive(),
  perMinute: z.number().positive(),
});

export const RateLimitsSchema = z.strictObject({
  /** Per Discord user, across channels. */
  perUser: RateBucketSchema.default({ burst: 5, perMinute: 6 }),
  /** Per channel (or thread), across users. */
  perChannel: RateBucketSchema.default({ burst: 20, perMinute: 30 }),
  /** Said once when a limit is hit; null: silence. */
  notice: z.string().min(1).max(2000).nullable().default("Easy. Too many requests; try again in a minute."),
});

/** Tuning of the hive-mind memory store (where it lives is `memoryDir`). */
export const MemorySchema = z.strictObject({
  /** Lock lease in ms: a holder that stops renewing (killed, host gone) is taken for dead this long after its last renewal. */
  lockStaleMs: z.number().int().min(100).max(600_000).default(MEMORY_DEFAULTS.lockStaleMs),
  /** How long, in ms, a memory change waits for a live lock holder before it fails. */
  lockWaitMs: z.number().int().min(1).max(600_000).default(MEMORY_DEFAULTS.lockWaitMs),
  /** Largest memory file, in bytes, that a write, append or edit may produce. */
  maxBytes: z.number().int().min(1_024).max(64 * 1_048_576).default(MEMORY_DEFAULTS.maxBytes),
});

export const StatusReportSchema = z.strictObject({
  /** The bootstrap bucket: the report goes to `status/<instance>.json` there. Unset: kept locally only. */
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "must be an S3 bucket name" }).optional(),
  /** The bucket's region; unset: AWS_REGION. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: "must be an AWS region name" }).optional(),
  /** Another S3 endpoint (an emulator). */
  endpoint: httpUrl.optional(),
  /** How often the gateway re-publishes its report; `clawdinator fleet status` calls a report older than 3 intervals stale. */
  heartbeatSeconds: z.number().int().min(10).max(3_600).default(60),
  /** Local folder of the report's sections (one per writing process); tmpfs on an instance. */
  factsDir: z.string().min(1).default(".clawdinator/status"),
});

export const SpawnSchema = z.strictObject({
  /**
   * An operator's checkout with the Pulumi stacks, where `clawdinator fleet spawn` runs. Unset (as on
   * every instance, which has no Pulumi): the agent has no fleet_spawn tool.
   */
  projectDir: z.string().min(1).optional(),
  /** argv that runs the CLI in `projectDir`. */
  command: z.array(z.string().min(1)).min(1).default(["node", "cli/clawdinator.js"]),
});

export const ConfigSchema = z.strictObject({
  /** `CLAWDINATOR-<n>`: the instance's name on Discord, in memory notes and in AWS tags. */
  instance: z
    .string()
    .regex(INSTANCE_NAME, { error: 'must be "CLAWDINATOR-<n>" with n from 1 to 9999' })
    .default("CLAWDINATOR-1"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Root of the hive-mind memory: the EFS mount on an instance, a local folder elsewhere. */
  memoryDir: z.string().min(1).default(".clawdinator/memory"),
  /** Folder holding SOUL.md, IDENTITY.md, AGENTS.md and skills/; unset: the workspace shipped with the agent. */
  workspaceDir: z.string().min(1).optional(),
  /**
   * Whether secrets may come from environment variables when no `*File` key is set.
   * Meant for local runs; an instance's config.json (infra/bundle.ts) sets it to false and passes files only.
   */
  secretsFromEnv: z.boolean().default(true),
  discordTokenFile: z.string().min(1).optional(),
  anthropicApiKeyFile: z.string().min(1).optional(),
  openaiApiKeyFile: z.string().min(1).optional(),
  githubApp: GithubAppSchema.optional(),
  github: GithubSchema.default(GithubSchema.parse({})),
  endpoints: EndpointsSchema.default(EndpointsSchema.parse({})),
  models: ModelsSchema.default(ModelsSchema.parse({})),
  brain: BrainSchema.default(BrainSchema.parse({})),
  discord: DiscordSchema.default(DiscordSchema.parse({})),
  access: AccessSchema.default(AccessSchema.parse({})),
  rateLimits: RateLimitsSchema.default(RateLimitsSchema.parse({})),
  memory: MemorySchema.default(MemorySchema.parse({})),
  coding: CodingSchema.default(CodingSchema.parse({})),
  status: StatusReportSchema.default(StatusReportSchema.parse({})),
  spawn: SpawnSchema.default(SpawnSchema.parse({})),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
export type DiscordConfig = z.infer<typeof DiscordSchema>;
export type AccessConfig = z.infer<typeof AccessSchema>;
export type RateLimitsConfig = z.infer<typeof RateLimitsSchema>;
export type BrainConfig = z.infer<typeof BrainSchema>;
export type GithubConfig = z.infer<typeof GithubSchema>;
export type CodingConfig = z.infer<typeof CodingSchema>;

/** Example values shown in error messages, by dotted field path. */
export const FIELD_EXAMPLES: Readonly<Record<string, string>> = {
  instance: '"CLAWDINATOR-1"',
  logLevel: '"info"',
  memoryDir: '"/var/lib/clawd/memory"',
  "memory.lockStaleMs": "10000",
  "memory.lockWaitMs": "30000",
  "memory.maxBytes": "1048576",
  workspaceDir: '"/var/lib/clawd/workspace"',
  secretsFromEnv: "false",
  discordTokenFile: '"/run/agenix/discord-token"',
  anthropicApiKeyFile: '"/run/agenix/anthropic-api-key"',
  openaiApiKeyFile: '"/run/agenix/openai-api-key"',
  "githubApp.appId": "123456",
  "githubApp.installationId": "7654321",
  "githubApp.privateKeyFile": '"/run/agenix/github-app.pem"',
  "github.repos": '["openclaw/openclaw", { "name": "openclaw/nix-openclaw", "maintainers": ["alice"] }]',
  "github.maintainers": '["alice", "bob"]',
  "github.tokenFile": '"/run/agenix/github-token"',
  "github.pollSeconds": "60",
  "github.digest.channel": '"clawdributors"',
  "github.digest.everyMinutes": "60",
  "github.digest.maxItems": "15",
  "github.seeds.dir": '"/var/lib/clawd/repos"',
  "github.contextDocs.tokenBudget": "4000",
  "endpoints.discordApi": '"https://discord.com/api"',
  "endpoints.anthropic": '"https://api.anthropic.com"',
  "endpoints.openai": '"https://api.openai.com/v1"',
  "endpoints.github": '"https://github.example.com/api/v3"',
  "models.voice": '"claude-sonnet-5-5"',
  "models.code": '"gpt-5-codex"',
  "status.bucket": '"clawdinator-bootstrap-0123abcd"',
  "status.region": '"eu-central-1"',
  "status.endpoint": '"http://127.0.0.1:4568"',
  "status.heartbeatSeconds": "60",
  "status.factsDir": '"/run/clawdinator/status"',
  "spawn.projectDir": '"/home/ops/clawdinators"',
  "spawn.command": '["node", "cli/clawdinator.js"]',
  "brain.maxSteps": "8",
  "brain.contextMessages": "20",
  "brain.contextChars": "24000",
  "brain.systemPromptTokenBudget": "3000",
  "brain.maxOutputTokens": "1500",
  "brain.timeoutMs": "60000",
  "brain.maxRetries": "2",
  "brain.turnTimeoutMs": "180000",
  "discord.guilds": '{ "1456350064065904867": { "channels": { "clawdributors-test": { "allow": true, "requireMention": true } } } }',
  "discord.dm.enabled": "false",
  "discord.startChannel": '"clawdributors-test"',
  "access.maintainers.users": '["123456789012345678"]',
  "access.maintainers.roles": '["234567890123456789"]',
  "access.refusal": '"I only take orders from maintainers."',
  "access.refusalCooldownSeconds": "600",
  "rateLimits.perUser": '{ "burst": 5, "perMinute": 6 }',
  "rateLimits.perChannel": '{ "burst": 20, "perMinute": 30 }',
  "rateLimits.perUser.burst": "5",
  "rateLimits.perUser.perMinute": "6",
  "rateLimits.perChannel.burst": "20",
  "rateLimits.perChannel.perMinute": "30",
  "coding.repos": '{ "clawdinators": "/var/lib/clawd/repos/clawdinators" }',
  "coding.defaultTarget": '"self"',
  "coding.workDir": '"/var/lib/clawd/tasks"',
  "coding.maxSteps": "24",
  "coding.maxTokens": "500000",
  "coding.taskTimeoutMs": "150000",
  "coding.sandbox.wallTimeMs": "60000",
  "coding.sandbox.memoryBytes": "1073741824",
  "coding.sandbox.processes": "64",
  "rateLimits.notice": '"Easy. Too many requests; try again in a minute."',
};

/** Keys people write when they mean to pass a secret inline, and the file key to use instead. */
export const INLINE_SECRET_KEYS: Readonly<Record<string, string>> = {
  discordToken: "discordTokenFile",
  anthropicApiKey: "anthropicApiKeyFile",
  openaiApiKey: "openaiApiKeyFile",
  "githubApp.privateKey": "githubApp.privateKeyFile",
  "github.token": "github.tokenFile",
};
