// The bootstrap bundle of one instance, as a pure listing of S3 objects. `pulumi up` declares them
// (infra/bootstrap.ts) and `clawdinator bootstrap upload` uploads the same list for repair, so the
// two can never drift. This module imports no Pulumi and no AWS SDK (the CLI loads it cheaply).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { AgentSettings, RepoSeed } from "./config.ts";

/** Where the boot service puts things on the instance; the agent's config.json points at them. */
const ON_INSTANCE = {
  /** agenix decrypts `<name>.age` to `<secretsDir>/<name>` (tmpfs). */
  secretsDir: "/run/agenix",
  /** The hive mind's EFS mount (through the access point). */
  memoryDir: "/var/lib/clawdinator/memory",
  /** Per-boot section files of the health report (tmpfs), shared by the boot service, the gateway and self-update. */
  statusDir: "/run/clawdinator/status",
} as const;

/** Secret files the agent knows, and the config.json key that points at each once decrypted. */
export const AGENT_SECRET_KEYS: Readonly<Record<string, string>> = {
  "discord-token": "discordTokenFile",
  "anthropic-api-key": "anthropicApiKeyFile",
  "openai-api-key": "openaiApiKeyFile",
  "github-app-key": "githubApp.privateKeyFile",
};

/** `bootstrap/CLAWDINATOR-<n>/`: the only prefix that instance's role may read. */
export function bootstrapPrefix(instance: string): string {
  return `bootstrap/${instance}/`;
}

/** `status/CLAWDINATOR-<n>.json` in the bootstrap bucket: the health report, the one object an instance writes. */
export function statusKey(instance: string): string {
  return `status/${instance}.json`;
}

/** What the instance needs at boot that only the deployment knows. No secrets. */
export interface BootFacts {
  /** The bootstrap bucket: the bundle is read from it, the health report written to it. */
  readonly bucket: string;
  readonly region: string;
  readonly fileSystemId: string;
  readonly accessPointId: string;
  /** The SSM parameter holding the age identity, `/<fleet>/<instance>/age-identity` (the fleet's name is known only at deploy). */
  readonly ageIdentityParameter: string;
}

export interface BundleInput {
  readonly instance: string;
  /** Absolute folder holding the agenix `<name>.age` files. */
  readonly secretsDir: string;
  readonly secrets: readonly string[];
  readonly repos: readonly RepoSeed[];
  readonly agent: AgentSettings;
}

export interface BundleObject {
  /** Key relative to the bucket (includes the instance's prefix). */
  readonly key: string;
  readonly body: Buffer;
  readonly contentType: string;
  readonly sha256: string;
}

/** The bundle's files whose content is known before deploy, and a renderer for the rest. */
export interface BundlePlan {
  readonly prefix: string;
  /** Every key, in upload order: the manifest last, so a complete manifest means a complete bundle. */
  readonly keys: readonly string[];
  /** All objects once the deployment's facts are known; pure and deterministic. */
  render(boot: BootFacts): BundleObject[];
}

export type BundleErrorCode = "SECRET_MISSING" | "SECRET_NOT_ENCRYPTED" | "SECRET_UNREADABLE";

/** A bundle that cannot be built; `file` is the offending file and the message says how to fix it. */
export class BundleError extends Error {
  override readonly name = "BundleError";
  readonly code: BundleErrorCode;
  readonly file: string;
  constructor(code: BundleErrorCode, file: string, message: string) {
    super(message);
    this.code = code;
    this.file = file;
  }
}

const AGE_BINARY = Buffer.from("age-encryption.org/v1\n");
const AGE_ARMOR = "-----BEGIN AGE ENCRYPTED FILE-----";

/** Reads and checks the secret files, then returns the plan. Fails on the first missing or plain-text file. */
export async function planBundle(input: BundleInput): Promise<BundlePlan> {
  // Read together, but the failure reported is the first in list order, not whichever read lost the race.
  const reads = await Promise.allSettled(input.secrets.map((name) => readSecret(input.secretsDir, name)));
  const failed = reads.find((read) => read.status === "rejected");
  if (failed) throw failed.reason;
  const secretFiles = reads.flatMap((read) => (read.status === "fulfilled" ? [read.value] : []));
  const prefix = bootstrapPrefix(input.instance);
  const staticObjects: BundleObject[] = [
    ...secretFiles.map((f) => object(`${prefix}secrets/${f.name}.age`, f.body, "application/octet-stream")),
    object(`${prefix}repos.json`, json(input.repos.map((r) => ({ name: r.name, url: r.url, ...(r.branch ? { branch: r.branch } : {}) }))), "application/json"),
  ];
  const configKey = `${prefix}config.json`;
  const bootKey = `${prefix}boot.json`;
  const manifestKey = `${prefix}manifest.json`;
  const render = (boot: BootFacts): BundleObject[] => {
    const configObject = object(configKey, json(agentConfig(input, boot)), "application/json");
    const bootObject = object(bootKey, json(bootDocument(input, boot)), "application/json");
    const contents = [...staticObjects, configObject, bootObject];
    const manifest = {
      version: 1,
      instance: input.instance,
      objects: contents.map((o) => ({ key: o.key.slice(prefix.length), sha256: o.sha256, bytes: o.body.length })),
    };
    return [...contents, object(manifestKey, json(manifest), "application/json")];
  };
  return { prefix, keys: [...staticObjects.map((o) => o.key), configKey, bootKey, manifestKey], render };
}

/** The agent's config (the shape of agent/config/schema.ts): paths only, never secret values. */
export function agentConfig(input: Pick<BundleInput, "instance" | "secrets" | "agent">, boot?: Pick<BootFacts, "bucket" | "region">): Record<string, unknown> {
  const config: Record<string, unknown> = {
    instance: input.instance,
    memoryDir: ON_INSTANCE.memoryDir,
    secretsFromEnv: false,
    // Where the gateway publishes its health report (status/<instance>.json).
    ...(boot ? { status: { bucket: boot.bucket, region: boot.region, factsDir: ON_INSTANCE.statusDir } } : {}),
    ...(input.agent.logLevel ? { logLevel: input.agent.logLevel } : {}),
    ...(input.agent.models ? { models: input.agent.models } : {}),
    ...(input.agent.endpoints ? { endpoints: input.agent.endpoints } : {}),
  };
  for (const name of input.secrets) {
    const key = AGENT_SECRET_KEYS[name];
    if (!key) continue; // a secret for something else on the host; shipped, but not the agent's
    const file = `${ON_INSTANCE.secretsDir}/${name}`;
    if (key === "githubApp.privateKeyFile") {
      if (input.agent.githubApp) config.githubApp = { ...input.agent.githubApp, privateKeyFile: file };
    } else {
      config[key] = file;
    }
  }
  return config;
}

/** What the boot service reads: where to fetch the identity, which secrets to decrypt, what to mount. */
function bootDocument(input: BundleInput, boot: BootFacts): Record<string, unknown> {
  return {
    version: 1,
    instance: input.instance,
    region: boot.region,
    ageIdentityParameter: boot.ageIdentityParameter,
    secrets: input.secrets.map((name) => ({ object: `secrets/${name}.age`, path: `${ON_INSTANCE.secretsDir}/${name}` })),
    hiveMind: { fileSystemId: boot.fileSystemId, accessPointId: boot.accessPointId, mountPoint: ON_INSTANCE.memoryDir, options: "tls,iam" },
    config: "config.json",
    repos: "repos.json",
  };
}

async function readSecret(dir: string, name: string): Promise<{ name: string; body: Buffer }> {
  const file = path.join(dir, `${name}.age`);
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : "";
    if (code === "ENOENT") {
      throw new BundleError(
        "SECRET_MISSING",
        file,
        `secret file ${file} does not exist: encrypt it with agenix (\`agenix -e ${name}.age\` in ${dir}), ` +
          `or remove "${name}" from the stack's clawdinators:secrets list`,
      );
    }
    throw new BundleError("SECRET_UNREADABLE", file, `secret file ${file} cannot be read (${code || String(error)}); check its permissions`);
  }
  const isAge = body.subarray(0, AGE_BINARY.length).equals(AGE_BINARY) || body.subarray(0, 64).toString("utf8").trimStart().startsWith(AGE_ARMOR);
  if (!isAge) {
    throw new BundleError(
      "SECRET_NOT_ENCRYPTED",
      file,
      `secret file ${file} is not age ciphertext (no "age-encryption.org/v1" header); it was not uploaded. ` +
        `Encrypt it with agenix (\`agenix -e ${name}.age\`) and delete the plain-text copy`,
    );
  }
  return { name, body };
}

function object(key: string, body: Buffer, contentType: string): BundleObject {
  return { key, body, contentType, sha256: createHash("sha256").update(body).digest("hex") };
}

function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
}
