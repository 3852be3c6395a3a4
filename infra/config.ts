// Typed stack configuration, validated before any resource is declared. A wrong or missing key
// fails with the key's full name, what is wrong and the `pulumi config set` line that fixes it.
import { z } from "zod";
import { FLEET_NAME } from "./invariants.ts";
import type { StackKind } from "./stacks.ts";

export const PROJECT = "clawdinators";
const REGION_KEY = "aws:region";

const awsRegion = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: "must be an AWS region name" });
const tags = z
  .record(z.string().regex(/^(?!aws:)[\w .:/=+@-]{1,128}$/, { error: "tag keys are 1-128 characters and may not start with aws:" }), z.string().max(256))
  .default({});

const ImageSchema = z
  .strictObject({
    /** Flake holding the NixOS configuration; with `nixosConfiguration`, or use `imagePath`. */
    flake: z.string().min(1).optional(),
    /** Name under the flake's `nixosConfigurations`. */
    nixosConfiguration: z.string().regex(/^[\w.-]+$/, { error: "must be an attribute name" }).optional(),
    /** A raw image built elsewhere, instead of `flake` + `nixosConfiguration`. */
    imagePath: z.string().min(1).optional(),
    architecture: z.enum(["x86_64", "arm64"]).default("x86_64"),
    bootMode: z.enum(["uefi", "legacy-bios", "uefi-preferred"]).default("uefi"),
    /** `ebs-direct` takes seconds; `vm-import` is the upstream's 10-20 minute way. */
    importMethod: z.enum(["ebs-direct", "vm-import"]).default("ebs-direct"),
    /** Older AMIs kept besides the current one (rollback), pruned beyond that. */
    keep: z.int().min(0).max(50).default(2),
    namePrefix: z.string().regex(/^[a-z0-9][a-z0-9-]{0,60}$/, { error: "must be lowercase letters, digits and dashes" }).default("clawdinator-nixos"),
    vmImportRoleName: z.string().regex(/^[\w+=,.@-]{1,64}$/, { error: "must be an IAM role name" }).default("vmimport"),
    /** Days a raw image stays in the images bucket; the AMI's snapshot keeps the data after import. */
    rawImageRetentionDays: z.int().min(1).max(3650).default(14),
    /** The `nix` executable the image resource runs (on the machine running `pulumi up`). */
    nixBinary: z.string().min(1).default("nix"),
  })
  .superRefine((image, ctx) => {
    const fromFlake = image.flake !== undefined || image.nixosConfiguration !== undefined;
    if (fromFlake && image.imagePath !== undefined) {
      ctx.addIssue({ code: "custom", path: ["imagePath"], message: "is set together with flake/nixosConfiguration; choose one source" });
    } else if (image.imagePath === undefined) {
      if (image.flake === undefined) ctx.addIssue({ code: "custom", path: ["flake"], message: "is required (or set image.imagePath to a prebuilt raw image)" });
      if (image.nixosConfiguration === undefined) ctx.addIssue({ code: "custom", path: ["nixosConfiguration"], message: "is required with image.flake" });
    }
  });

const subnetId = z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { error: "must be a subnet id" });

const NetworkSchema = z.strictObject({
  vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { error: "must be a VPC id" }),
  /** Subnets for the EFS mount targets and the instances, at most one per availability zone. */
  subnetIds: z.array(subnetId).min(1).max(6),
});

const EfsSchema = z.strictObject({
  /** The agent's POSIX identity on the hive mind; match the NixOS module's user. */
  uid: z.int().min(1).max(2 ** 31 - 1).default(2000),
  gid: z.int().min(1).max(2 ** 31 - 1).default(2000),
  /** Directory the access point roots every instance in. */
  rootDirectory: z.string().regex(/^\/[\w./-]*$/, { error: "must be an absolute path" }).default("/hive-mind"),
  throughputMode: z.enum(["elastic", "bursting"]).default("elastic"),
});

/**
 * The fleet's name when the fleet stack sets none: the names a single fleet has always had
 * (`alias/clawdinators-secrets`, `/clawdinators/<instance>/age-identity`), so it keeps them.
 */
export const DEFAULT_FLEET_NAME = "clawdinators";

const FleetConfigSchema = z.strictObject({
  [REGION_KEY]: awsRegion,
  /**
   * Names the fleet's account-wide things: the KMS alias `alias/<fleetName>-secrets` and the SSM
   * prefix `/<fleetName>/<instance>/`. A second fleet in the same account (staging beside prod) needs
   * its own. Changing it replaces every instance's parameter and the alias.
   * @default "clawdinators"
   * @example "clawdinators-staging"
   */
  fleetName: z
    .string()
    .regex(FLEET_NAME, {
      error:
        "must be 1-32 lowercase letters, digits and dashes, from a letter to a letter or digit, not starting with aws or ssm " +
        "(it becomes the KMS alias alias/<fleetName>-secrets and the SSM prefix /<fleetName>/)",
    })
    .default(DEFAULT_FLEET_NAME),
  image: ImageSchema,
  /** Unset: the region's default VPC and its default subnets. */
  network: NetworkSchema.optional(),
  efs: EfsSchema.default(EfsSchema.parse({})),
  /**
   * What `clawdinator fleet spawn <n>` writes into a new instance's stack file (instanceType,
   * secrets, repos, agent, healthGate, ...): keys of an instance stack, checked against the
   * instance schema when spawn uses them.
   */
  /**
   * The in-place lane's release: what every host's `clawdinator self-update` switches to. Unset:
   * hosts run their image's system and nothing else (the image lane only).
   */
  release: z
    .strictObject({
      /** A flake ref pinned to a full 40-character revision, e.g. `github:you/clawdinators/<rev>`. */
      flake: z.string().regex(/(^|[/?&=])[0-9a-f]{40}($|[&#/])/, { error: "must pin a full 40-character git revision (github:owner/repo/<rev>)" }),
      nixosConfiguration: z.string().regex(/^[\w.-]+$/, { error: "must be an attribute name" }).default("clawdinator"),
      /** The system's store path when known (`nix eval …config.system.build.toplevel`): hosts fetch it instead of building. */
      systemPath: z.string().regex(/^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[\w+.?=-]+$/, { error: "must be a /nix/store path" }).optional(),
    })
    .optional(),
  instanceDefaults: z.record(z.string().regex(/^[a-zA-Z][\w]*$/, { error: "must be an instance stack key" }), z.unknown()).default({}),
  tags,
});

/** Agent settings passed through to the instance's config.json; infra fills in paths and the instance name. */
const AgentSettingsSchema = z.strictObject({
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
  models: z.strictObject({ voice: z.string().min(1).optional(), code: z.string().min(1).optional() }).optional(),
  endpoints: z
    .strictObject({
      discordApi: z.url({ protocol: /^https$/ }).optional(),
      anthropic: z.url({ protocol: /^https$/ }).optional(),
      openai: z.url({ protocol: /^https$/ }).optional(),
      github: z.url({ protocol: /^https$/ }).optional(),
    })
    .optional(),
  githubApp: z.strictObject({ appId: z.int().positive(), installationId: z.int().positive() }).optional(),
});

const SECRET_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

const RepoSeedSchema = z.strictObject({
  /** Folder name under the seeds directory. */
  name: z.string().regex(/^[\w.-]{1,100}$/, { error: "must be a folder name (letters, digits, . _ -)" }),
  url: z.url({ protocol: /^https$/, error: "must be an https:// git URL" }),
  branch: z.string().regex(/^[\w./-]{1,200}$/, { error: "must be a branch name" }).optional(),
});

const AGE_IDENTITY = /^AGE-SECRET-KEY-1[023456789ACDEFGHJKLMNPQRSTUVWXYZ]{58}$/;

/** The instance keys that shape its bootstrap bundle (shared with `clawdinator bootstrap upload`). */
const bundleFields = {
  /** Folder (relative to the project) holding the agenix `<name>.age` files. */
  secretsDir: z.string().min(1).default("secrets"),
  /** Which `<name>.age` files the instance gets. */
  secrets: z
    .array(z.string().regex(SECRET_NAME, { error: "must be a file name without .age (lowercase, digits, dashes)" }))
    .default(["discord-token", "anthropic-api-key"]),
  repos: z.array(RepoSeedSchema).default([]),
  agent: AgentSettingsSchema.default({}),
};

type BundleFields = { secrets: string[]; repos: RepoSeed[]; agent: AgentSettings };

function checkBundleFields(config: BundleFields, ctx: z.RefinementCtx): void {
  if (config.agent.githubApp && !config.secrets.includes("github-app-key")) {
    ctx.addIssue({ code: "custom", path: ["secrets"], message: 'must include "github-app-key" when agent.githubApp is set (the App\'s private key)' });
  }
  const seen = new Set<string>();
  config.repos.forEach((repo, i) => {
    if (seen.has(repo.name)) ctx.addIssue({ code: "custom", path: ["repos", i, "name"], message: `"${repo.name}" is listed twice` });
    seen.add(repo.name);
  });
}

const InstanceConfigSchema = z
  .strictObject({
    [REGION_KEY]: awsRegion,
    /** The fleet stack to read shared outputs from: `fleet` or `org/clawdinators/fleet`. */
    fleetStack: z.string().regex(/^([\w.-]+\/){0,2}[\w.-]+$/, { error: "must be a stack name, optionally org/project/stack" }).default("fleet"),
    instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: "must be an EC2 instance type" }).default("t3.small"),
    rootVolumeGiB: z.coerce.number().int().min(8).max(16384).default(30),
    /** Unset: one of the fleet's subnets, by instance number. */
    subnetId: subnetId.optional(),
    /**
     * The deploy health gate: after the instance is (re)created, `pulumi up` waits for it to report
     * healthy (`clawdinator fleet wait-healthy`) and fails, naming the reason, when it does not.
     */
    healthGate: z
      .strictObject({
        /** @default true */
        enabled: z.boolean().default(true),
        /** How long a new instance has to boot and connect. @default 15 */
        timeoutMinutes: z.int().min(1).max(120).default(15),
        /** The command that runs the CLI on the deploying machine, from the project folder. @default "node cli/clawdinator.js" */
        cli: z.string().min(1).default("node cli/clawdinator.js"),
      })
      .default({ enabled: true, timeoutMinutes: 15, cli: "node cli/clawdinator.js" }),
    /**
     * The age identity (`AGE-SECRET-KEY-1...`) that decrypts this instance's secrets; goes to SSM only.
     * An age-keygen file is accepted whole; what the program gets is its one key line.
     */
    ageIdentity: z.string().transform((value, ctx) => {
      const line = ageIdentityLine(value);
      if (line !== undefined) return line;
      ctx.addIssue({ code: "custom", message: "must be an age identity (the AGE-SECRET-KEY-1... line that age-keygen prints)" });
      return z.NEVER;
    }),
    ...bundleFields,
    tags,
  })
  .superRefine(checkBundleFields);

/** Only the bundle's keys of an instance stack; other keys are ignored (they are `pulumi up`'s business). */
const BundleSettingsSchema = z.object({ [REGION_KEY]: awsRegion.optional(), ...bundleFields }).superRefine(checkBundleFields);

export type FleetConfig = z.output<typeof FleetConfigSchema> & { readonly kind: "fleet" };
export type InstanceConfig = z.output<typeof InstanceConfigSchema> & { readonly kind: "instance"; readonly instance: string; readonly index: number };
export type StackConfig = FleetConfig | InstanceConfig;
export type RepoSeed = z.output<typeof RepoSeedSchema>;
export type AgentSettings = z.output<typeof AgentSettingsSchema>;
export type BundleSettings = z.output<typeof BundleSettingsSchema>;

/** The single `AGE-SECRET-KEY-1...` line of an identity file (comments allowed), or undefined. */
function ageIdentityLine(value: string): string | undefined {
  const keys = value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  return keys.length === 1 && AGE_IDENTITY.test(keys[0] ?? "") ? keys[0] : undefined;
}

/** Example values, by dotted key path without array indices; the error prints them as a command. */
export const CONFIG_EXAMPLES: Readonly<Record<string, string>> = {
  [REGION_KEY]: "eu-central-1",
  image: `'{"flake":"github:you/clawdinators","nixosConfiguration":"clawdinator"}'`,
  "image.flake": "github:you/clawdinators",
  "image.nixosConfiguration": "clawdinator",
  "image.imagePath": "./result/nixos.img",
  "image.architecture": "x86_64",
  "image.bootMode": "uefi",
  "image.importMethod": "ebs-direct",
  "image.keep": "2",
  "image.namePrefix": "clawdinator-nixos",
  "image.vmImportRoleName": "vmimport",
  "image.rawImageRetentionDays": "14",
  "image.nixBinary": "/nix/var/nix/profiles/default/bin/nix",
  network: `'{"vpcId":"vpc-0123456789abcdef0","subnetIds":["subnet-0123456789abcdef0"]}'`,
  "network.vpcId": "vpc-0123456789abcdef0",
  "network.subnetIds": `'["subnet-0123456789abcdef0","subnet-0fedcba9876543210"]'`,
  efs: `'{"uid":2000,"gid":2000}'`,
  "efs.uid": "2000",
  "efs.gid": "2000",
  "efs.rootDirectory": "/hive-mind",
  "efs.throughputMode": "elastic",
  tags: `'{"team":"maintainers"}'`,
  release: `'{"flake":"github:you/clawdinators/0123456789abcdef0123456789abcdef01234567","nixosConfiguration":"clawdinator"}'`,
  instanceDefaults: `'{"instanceType":"t3.small","secrets":["discord-token","anthropic-api-key"]}'`,
  fleetName: "clawdinators-staging",
  fleetStack: "fleet",
  instanceType: "t3.small",
  rootVolumeGiB: "30",
  subnetId: "subnet-0123456789abcdef0",
  healthGate: `'{"enabled":true,"timeoutMinutes":15}'`,
  "healthGate.enabled": "true",
  "healthGate.timeoutMinutes": "15",
  "healthGate.cli": "clawdinator",
  ageIdentity: "\"$(cat clawdinator-1.agekey)\"",
  secretsDir: "secrets",
  secrets: `'["discord-token","anthropic-api-key"]'`,
  "secrets[]": "discord-token",
  repos: `'[{"name":"clawdinators","url":"https://github.com/you/clawdinators.git","branch":"main"}]'`,
  "repos.name": "clawdinators",
  "repos.url": "https://github.com/you/clawdinators.git",
  "repos.branch": "main",
  agent: `'{"logLevel":"info"}'`,
  "agent.logLevel": "info",
  "agent.models.voice": "claude-sonnet-5-5",
  "agent.models.code": "gpt-5-codex",
  "agent.endpoints.discordApi": "https://discord.com/api",
  "agent.endpoints.anthropic": "https://api.anthropic.com",
  "agent.endpoints.openai": "https://api.openai.com/v1",
  "agent.endpoints.github": "https://api.github.com",
  "agent.githubApp.appId": "123456",
  "agent.githubApp.installationId": "7654321",
};

/** Keys whose value must be stored encrypted in the stack file. */
const SECRET_KEYS: readonly string[] = ["ageIdentity"];

export interface StackConfigProblem {
  /** The full key as `pulumi config` names it, e.g. `clawdinators:image.flake` or `aws:region`. */
  readonly key: string;
  readonly problem: string;
  /** The command that sets a valid value. */
  readonly fix: string;
}

/** Stack configuration the program refuses to run with; no resource has been declared yet. */
export class StackConfigError extends Error {
  override readonly name = "StackConfigError";
  readonly stackName: string;
  readonly problems: readonly StackConfigProblem[];
  constructor(stack: string, problems: readonly StackConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.key}: ${p.problem}. Fix: ${p.fix}`);
    super(`invalid configuration for stack "${stack}":\n${lines.join("\n")}`);
    this.stackName = stack;
    this.problems = problems;
  }
}

/** The raw config map as Pulumi hands it over (`pulumi.runtime.allConfig()`): every value a string. */
export type RawConfig = Readonly<Record<string, string>>;

/**
 * Validates the stack's configuration for its program. `isSecret` says whether a key was stored
 * encrypted (`pulumi config set --secret`); a secret key stored in plain text is refused.
 */
export function readStackConfig(stack: string, kind: StackKind, raw: RawConfig, isSecret: (key: string) => boolean): StackConfig {
  const { document, problems } = toDocument(raw);
  for (const name of SECRET_KEYS) {
    const key = `${PROJECT}:${name}`;
    if (kind.kind === "instance" && raw[key] !== undefined && !isSecret(key)) {
      problems.push({ key, problem: "is stored in plain text in the stack file", fix: `pulumi config rm ${name} && ${fixFor(name, [])}` });
    }
  }
  if (kind.kind === "fleet") return { ...validate(stack, FleetConfigSchema, document, problems), kind: "fleet" };
  // A fleet key on an instance stack is a mistake worth naming (most of all fleetName: an instance
  // takes its fleet's name from the fleet stack, so the two can never disagree).
  for (const name of Object.keys(document).filter((n) => n in FleetConfigSchema.shape && !(n in InstanceConfigSchema.shape))) {
    delete document[name];
    problems.push({
      key: `${PROJECT}:${name}`,
      problem: "is a fleet stack key; an instance stack reads what it needs of it from the fleet stack",
      fix: `pulumi config rm ${name} (and set it on the fleet stack: ${fixFor(name, [])} --stack fleet)`,
    });
  }
  return { ...validate(stack, InstanceConfigSchema, document, problems), kind: "instance", instance: kind.instance, index: kind.index };
}

/** The bundle's settings from an instance stack's config (the stack file as the CLI reads it). */
export function readBundleSettings(stack: string, raw: RawConfig): BundleSettings {
  const { document, problems } = toDocument(raw);
  return validate(stack, BundleSettingsSchema, document, problems);
}

function validate<S extends z.ZodType>(stack: string, schema: S, document: Record<string, unknown>, problems: StackConfigProblem[]): z.output<S> {
  const parsed = schema.safeParse(document);
  if (!parsed.success) problems.push(...parsed.error.issues.flatMap((issue) => problemsOf(issue, document)));
  if (problems.length > 0 || !parsed.success) throw new StackConfigError(stack, problems);
  return parsed.data;
}

/** Project keys without their namespace, objects parsed from their JSON text. */
function toDocument(raw: RawConfig): { document: Record<string, unknown>; problems: StackConfigProblem[] } {
  const problems: StackConfigProblem[] = [];
  const document: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === REGION_KEY) document[REGION_KEY] = value;
    if (!key.startsWith(`${PROJECT}:`)) continue;
    const name = key.slice(PROJECT.length + 1);
    try {
      document[name] = /^\s*[[{]/.test(value) ? JSON.parse(value) : value;
    } catch {
      problems.push({ key, problem: "is not valid JSON", fix: fixFor(name, []) });
    }
  }
  return { document, problems };
}

function problemsOf(issue: z.core.$ZodIssue, document: Record<string, unknown>): StackConfigProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((unknown) => {
      const keyPath = [...path, unknown];
      return { key: keyName(keyPath), problem: "is not a known key (typo?)", fix: `pulumi config rm ${path.length > 0 ? "--path " : ""}${dotted(keyPath)}` };
    });
  }
  const missing = valueAt(document, path) === undefined;
  const problem = missing && issue.code === "invalid_type" ? "is required" : issue.message;
  return [{ key: keyName(path), problem, fix: fixFor(dotted(path), path) }];
}

function valueAt(document: unknown, path: ReadonlyArray<string | number>): unknown {
  let value = document;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

function dotted(path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function keyName(path: ReadonlyArray<string | number>): string {
  const name = dotted(path);
  return name === REGION_KEY ? name : `${PROJECT}:${name}`;
}

/** The `pulumi config set` line for a key, with the documented example value. */
function fixFor(name: string, path: ReadonlyArray<string | number>): string {
  const exampleKey = path.filter((p) => typeof p === "string").join(".") || name;
  // An element of a list (`secrets[0]`) takes an element's example, not the whole list's.
  const element = typeof path.at(-1) === "number";
  const example = (element ? CONFIG_EXAMPLES[`${exampleKey}[]`] : CONFIG_EXAMPLES[exampleKey]) ?? "<value>";
  const secret = SECRET_KEYS.includes(exampleKey) ? "--secret " : "";
  const nested = path.length > 1 ? "--path " : "";
  // Quoted when it has brackets, which a shell would read as a glob.
  return `pulumi config set ${secret}${nested}${name.includes("[") ? `'${name}'` : name} ${example}`;
}
