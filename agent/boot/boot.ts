// `clawdinator boot`: docs/SECRETS.md "At boot", steps 1-5, as one idempotent run.
//   1. user data through IMDSv2 → where the bundle is
//   2. manifest.json, then every object it lists, each checked against its SHA-256; nothing is
//      decrypted or written unless every object is whole
//   3. boot.json → the SSM parameter, the secrets, the hive mind
//   4. the age identity from SSM (in memory only) → each secret to <agenixDir>/<name>, 0400, the agent's
//   5. the gateway's config.json and repos.json (root's, under runDir), then the EFS mount
// A second run with nothing new changes nothing: every write compares first.
import { createHash } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { BootAws } from "./aws.ts";
import {
  BootDocumentSchema,
  ConfigObjectSchema,
  ManifestSchema,
  parseBundleJson,
  parseUserData,
  RepoSeedsSchema,
  secretNameOf,
  type BundleLocation,
  type Manifest,
} from "./contract.ts";
import { identityLine, openDecrypter } from "./decrypt.ts";
import { BootError } from "./errors.ts";
import { ensureDir, syncFile } from "./files.ts";
import { gatewayConfig } from "./gateway-config.ts";
import { isMounted, mountEfs, runCommand, type CommandRunner } from "./mount.ts";
import { SECRET_NAME, type BootSettings } from "./settings.ts";

export interface BootDeps {
  readonly aws: BootAws;
  readonly log: Logger;
  readonly run?: CommandRunner;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export interface BootResult {
  readonly instance: string;
  /** Every path this run created, rewrote, re-owned or removed, and `mount:<dir>` if it mounted. */
  readonly changed: readonly string[];
  /** Secret files now in place, by name. */
  readonly secrets: readonly string[];
  readonly configFile: string;
  readonly mounted: boolean;
}

const SECRET_MODE = 0o400;
/** The agenix folder: root's, traversable, not listable by others. */
const AGENIX_DIR_MODE = 0o711;
/** The gateway's config: root's, readable by the agent's group, never writable by the agent. */
const CONFIG_MODE = 0o640;
/** Owned by the agent as its unit's StateDirectory= expects, so systemd never re-owns it recursively (with the hive mind inside). */
const STATE_DIR_MODE = 0o750;

export async function runBoot(settings: BootSettings, deps: BootDeps): Promise<BootResult> {
  const { aws, log } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = deps.now ?? Date.now;

  const location = parseUserData(await aws.userData());
  const region = settings.region ?? (await aws.region());
  log.info({ bucket: location.bucket, prefix: location.prefix, region }, "bootstrap bundle located");

  const manifest = await waitForManifest(location, region, settings.manifestWaitSeconds * 1_000, { aws, log, sleep, now });
  const objects = await fetchVerified(location, region, manifest, aws);
  log.info({ objects: objects.size }, "bundle fetched and every SHA-256 checked");

  const bootKey = "boot.json";
  const boot = parseBundleJson(bootKey, need(objects, bootKey), BootDocumentSchema);
  if (boot.instance !== location.instance || manifest.instance !== location.instance) {
    throw new BootError(
      "BUNDLE_INVALID",
      bootKey,
      `the bundle under ${location.prefix} is for ${boot.instance} (manifest: ${manifest.instance}), not ${location.instance}; re-upload it (clawdinator bootstrap upload --instance ${location.instance})`,
    );
  }
  const secretObjects = boot.secrets.map((s) => ({ object: s.object, name: secretNameOf(s.object), ciphertext: need(objects, s.object) }));
  const bundleConfig = parseBundleJson(boot.config, need(objects, boot.config), ConfigObjectSchema);
  const repos = parseBundleJson(boot.repos, need(objects, boot.repos), RepoSeedsSchema);
  const baseConfig = settings.baseConfig ? await readBaseConfig(settings.baseConfig) : {};
  // Checked before any secret is decrypted: a bundle the gateway cannot run with changes nothing.
  const decryptable = new Set(secretObjects.map((s) => s.name));
  const { config, dropped } = gatewayConfig(baseConfig, bundleConfig, settings.credentials, decryptable, `${location.prefix}${boot.config}`);
  for (const key of dropped) {
    log.warn({ key }, "the bundle sets a secret the gateway unit does not load; that integration stays offline (set its services.clawdinator option in the image)");
  }

  const identity = identityLine(await aws.getSecureParameter(boot.ageIdentityParameter, region), boot.ageIdentityParameter);
  const decrypter = await openDecrypter(identity);
  const plaintexts = [];
  for (const secret of secretObjects) plaintexts.push({ name: secret.name, body: await decrypter.decrypt(secret.object, secret.ciphertext) });

  const changed: string[] = [];
  const note = (did: boolean, what: string): void => {
    if (did) changed.push(what);
  };
  note(await ensureDir(settings.agenixDir, { mode: AGENIX_DIR_MODE, uid: 0, gid: 0 }), settings.agenixDir);
  const owner = { uid: settings.owner.uid, gid: settings.owner.gid };
  for (const { name, body } of plaintexts) {
    const file = path.join(settings.agenixDir, name);
    note(await syncFile(file, body, { mode: SECRET_MODE, ...owner }), file);
  }
  for (const stale of await staleSecrets(settings.agenixDir, decryptable)) {
    await rm(stale, { force: true });
    note(true, stale);
  }

  const readable = { mode: CONFIG_MODE, uid: 0, gid: settings.owner.gid };
  note(await ensureDir(settings.runDir, { ...readable, mode: 0o750 }), settings.runDir);
  const configFile = path.join(settings.runDir, "config.json");
  note(await syncFile(configFile, json(config), readable), configFile);
  const reposFile = path.join(settings.runDir, "repos.json");
  note(await syncFile(reposFile, json(repos), readable), reposFile);

  let mounted = false;
  if (settings.memory.efs === "bundle") {
    if (!boot.hiveMind) {
      log.warn("the bundle names no hive mind (boot.json hiveMind); memory stays on the local disk");
    } else {
      const agentDir = { mode: STATE_DIR_MODE, ...owner };
      note(await ensureDir(settings.stateDir, agentDir), settings.stateDir);
      if (!(await isMounted(settings.memory.mountPoint, settings.mountInfo))) {
        note(await ensureDir(settings.memory.mountPoint, agentDir), settings.memory.mountPoint);
      }
      mounted = await mountEfs(
        { ...boot.hiveMind, mountPoint: settings.memory.mountPoint, ...(settings.memory.region ? { region: settings.memory.region } : {}) },
        settings.mountCommand,
        settings.mountInfo,
        deps.run ?? runCommand,
      );
      note(mounted, `mount:${settings.memory.mountPoint}`);
    }
  }
  log.info({ instance: location.instance, secrets: plaintexts.map((p) => p.name), changed: changed.length, mounted }, "boot complete");
  return { instance: location.instance, changed, secrets: plaintexts.map((p) => p.name), configFile, mounted };
}

/** The manifest is uploaded last: until it is there, the bundle is incomplete. Waits with backoff. */
async function waitForManifest(
  location: BundleLocation,
  region: string,
  waitMs: number,
  deps: { aws: BootAws; log: Logger; sleep: (ms: number) => Promise<void>; now: () => number },
): Promise<Manifest> {
  const key = `${location.prefix}manifest.json`;
  const deadline = deps.now() + waitMs;
  let delay = 2_000;
  for (let attempt = 1; ; attempt++) {
    const body = await deps.aws.getObject(location.bucket, key, region);
    if (body) return parseBundleJson("manifest.json", body, ManifestSchema);
    const left = deadline - deps.now();
    if (left <= 0) {
      throw new BootError(
        "MANIFEST_MISSING",
        `s3://${location.bucket}/${key}`,
        `no manifest at s3://${location.bucket}/${key} after ${attempt} tries over ${Math.round(waitMs / 1000)} s: the bundle was never uploaded or is incomplete. ` +
          `Run pulumi up on the instance's stack, or clawdinator bootstrap upload --instance ${location.instance}`,
      );
    }
    deps.log.warn({ key, attempt, retryInMs: Math.min(delay, left) }, "no manifest yet; waiting for the deploy to finish uploading");
    await deps.sleep(Math.min(delay, left));
    delay = Math.min(delay * 1.5, 15_000);
  }
}

/** Every object the manifest lists, each checked for size and SHA-256 before anything is used. */
async function fetchVerified(location: BundleLocation, region: string, manifest: Manifest, aws: BootAws): Promise<Map<string, Buffer>> {
  const objects = new Map<string, Buffer>();
  for (const entry of manifest.objects) {
    const key = `${location.prefix}${entry.key}`;
    const body = await aws.getObject(location.bucket, key, region);
    if (!body) {
      throw new BootError("OBJECT_MISSING", entry.key, `the manifest lists ${entry.key}, but s3://${location.bucket}/${key} does not exist; re-upload the bundle`);
    }
    const sha256 = createHash("sha256").update(body).digest("hex");
    if (sha256 !== entry.sha256 || body.length !== entry.bytes) {
      throw new BootError(
        "OBJECT_MISMATCH",
        entry.key,
        `${entry.key} does not match the manifest (SHA-256 ${sha256.slice(0, 12)}…, ${body.length} bytes; expected ${entry.sha256.slice(0, 12)}…, ${entry.bytes} bytes): ` +
          "the bundle was changed after upload or is half-written. Nothing was decrypted; re-upload it with pulumi up or clawdinator bootstrap upload",
      );
    }
    objects.set(entry.key, body);
  }
  return objects;
}

function need(objects: ReadonlyMap<string, Buffer>, key: string): Buffer {
  const body = objects.get(key);
  if (!body) throw new BootError("BUNDLE_INVALID", key, `boot.json refers to ${key}, which the manifest does not list; re-upload the bundle`);
  return body;
}

async function readBaseConfig(file: string): Promise<Record<string, unknown>> {
  try {
    const document: unknown = JSON.parse(await readFile(file, "utf8"));
    if (typeof document === "object" && document !== null && !Array.isArray(document)) return document as Record<string, unknown>;
  } catch (error) {
    throw new BootError("SETTINGS_INVALID", file, `cannot read the image's agent config ${file} (${(error as Error).message})`);
  }
  throw new BootError("SETTINGS_INVALID", file, `the image's agent config ${file} is not a JSON object`);
}

/** Secret files left from an earlier bundle: a secret rotated out must not linger in /run/agenix. */
async function staleSecrets(dir: string, current: ReadonlySet<string>): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isFile() && SECRET_NAME.test(e.name) && !current.has(e.name)).map((e) => path.join(dir, e.name));
}

function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
}
