// The gateway's config.json on an instance: the image's fleet-wide config (the NixOS module's
// `services.clawdinator.config`) with the instance's bundle config.json laid over it, and every
// secret pointed at the credential the gateway unit loads. Validated with the agent's own schema
// here, so a bad bundle stops at boot with field names instead of crash-looping the gateway.
import { parseConfig } from "../config/load.ts";
import { ConfigError } from "../config/errors.ts";
import { BootError } from "./errors.ts";
import type { Credential } from "./settings.ts";

type Json = Record<string, unknown>;

/** The agent config keys that hold a secret file's path, dotted. */
const SECRET_KEYS = ["discordTokenFile", "anthropicApiKeyFile", "openaiApiKeyFile", "githubApp.privateKeyFile"] as const;

export interface GatewayConfig {
  readonly config: Json;
  /** Secret keys the bundle set but the gateway unit does not load; left out, with why. */
  readonly dropped: readonly string[];
}

/**
 * `base` ⊕ `bundle` (objects merged key by key, everything else replaced by the bundle's value),
 * then each credential's key set to its path, and any other secret key removed: the gateway can
 * read only what its unit loads. `decrypted` are the secret names this boot wrote.
 */
export function gatewayConfig(base: Json, bundle: Json, credentials: readonly Credential[], decrypted: ReadonlySet<string>, source: string): GatewayConfig {
  const config = merge(base, bundle);
  for (const credential of credentials) {
    if (!decrypted.has(credential.name)) {
      throw new BootError(
        "CREDENTIAL_MISSING",
        credential.name,
        `the gateway loads the credential "${credential.name}" (${credential.configKey}), but this instance's bundle has no secrets/${credential.name}.age: ` +
          `add "${credential.name}" to the stack's clawdinators:secrets and pulumi up, or set its services.clawdinator option to null in the image`,
      );
    }
  }
  const dropped: string[] = [];
  for (const key of SECRET_KEYS) {
    const credential = credentials.find((c) => c.configKey === key);
    if (credential) setPath(config, key, credential.path);
    else if (getPath(config, key) !== undefined) {
      deletePath(config, key);
      dropped.push(key);
    }
  }
  // A githubApp block whose key the gateway cannot load is useless and fails the schema.
  if (isObject(config.githubApp) && config.githubApp.privateKeyFile === undefined) {
    delete config.githubApp;
  }
  try {
    parseConfig(config, source);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new BootError("CONFIG_INVALID", error.problems[0]?.field ?? "", `${error.message}\n(the image's services.clawdinator.config with the bundle's config.json laid over it)`);
    }
    throw error;
  }
  return { config, dropped };
}

function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (key === "__proto__" || key === "constructor" || key === "prototype") {
      throw new BootError("CONFIG_INVALID", key, `config key "${key}" is not allowed (it would change the object's prototype); remove it`);
    }
    const old = out[key];
    out[key] = isObject(old) && isObject(value) ? merge(old, value) : value;
  }
  return out;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function getPath(config: Json, dotted: string): unknown {
  let node: unknown = config;
  for (const part of dotted.split(".")) node = isObject(node) ? node[part] : undefined;
  return node;
}

function setPath(config: Json, dotted: string, value: unknown): void {
  const parts = dotted.split(".");
  const last = parts.pop() ?? dotted;
  let node = config;
  for (const part of parts) {
    const next = node[part];
    if (!isObject(next)) return; // githubApp absent: the key has nothing to belong to
    node = next;
  }
  node[last] = value;
}

function deletePath(config: Json, dotted: string): void {
  const parts = dotted.split(".");
  const last = parts.pop() ?? dotted;
  let node: unknown = config;
  for (const part of parts) node = isObject(node) ? node[part] : undefined;
  if (isObject(node)) delete node[last];
}
