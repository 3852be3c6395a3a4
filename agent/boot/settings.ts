// What the NixOS module tells `clawdinator boot` (services.clawdinator.bootstrap renders it as
// JSON): where things go on this host and which credentials the gateway unit loads. Everything
// that differs per instance comes from the bundle instead, so one image serves the whole fleet.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { errorCode } from "../config/errors.ts";
import { BootError } from "./errors.ts";

/** A secret's name: the `<name>.age` object in the bundle and the file under the agenix folder. */
export const SECRET_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const absolutePath = z.string().regex(/^\/[^\0]*$/, { error: "must be an absolute path" });
const endpoint = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

export const CredentialSchema = z.strictObject({
  /** The secret's name (`discord-token`); the credential id in the gateway unit's `LoadCredential=`. */
  name: z.string().regex(SECRET_NAME, { error: "must be a secret name like discord-token" }),
  /** The agent config key that points at it, dotted (`githubApp.privateKeyFile`). */
  configKey: z.enum(["discordTokenFile", "anthropicApiKeyFile", "openaiApiKeyFile", "githubApp.privateKeyFile"]),
  /** Where the gateway reads it: `$CREDENTIALS_DIRECTORY/<name>` of its unit. */
  path: absolutePath,
});

export const BootSettingsSchema = z.strictObject({
  /** The gateway's config.json and repos.json are written here, root's and read-only to the agent (tmpfs). */
  runDir: absolutePath.default("/run/clawdinator"),
  /** The gateway's StateDirectory; made the agent's before the hive mind's mount point is made inside it. */
  stateDir: absolutePath.default("/var/lib/clawdinator"),
  /** Decrypted secrets, one file each (tmpfs). */
  agenixDir: absolutePath.default("/run/agenix"),
  /** The image's fleet-wide agent config (services.clawdinator.config); the bundle's config.json overlays it. */
  baseConfig: absolutePath.optional(),
  /** Secrets the gateway unit loads with `LoadCredential=`; each must be in every instance's bundle. */
  credentials: z.array(CredentialSchema).default([]),
  /** Owner of the decrypted secrets: the agent's user and group. */
  owner: z.strictObject({ uid: z.int().min(0), gid: z.int().min(0) }),
  memory: z
    .strictObject({
      /** Where the hive mind is mounted; the agent's `memoryDir`. */
      mountPoint: absolutePath.default("/var/lib/clawdinator/memory"),
      /** `bundle`: mount the EFS named by the bundle's boot.json; `off`: NixOS mounts it, or no EFS. */
      efs: z.enum(["bundle", "off"]).default("bundle"),
      /** Passed to the EFS mount helper as `region=`; unset, the helper asks the instance metadata. */
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: "must be an AWS region like eu-central-1" }).optional(),
    })
    .default({ mountPoint: "/var/lib/clawdinator/memory", efs: "bundle" }),
  /** The `mount` binary (util-linux), which runs the EFS helper `mount.efs`. */
  mountCommand: z.string().min(1).default("mount"),
  /** Endpoints, for tests and unusual networks; unset: AWS's own (IMDS at 169.254.169.254). */
  endpoints: z
    .strictObject({ imds: endpoint.optional(), s3: endpoint.optional(), ssm: endpoint.optional() })
    .default({}),
  /** Region of S3 and SSM; unset: the instance's, from the metadata service. */
  region: z.string().min(1).optional(),
  /** How long to wait for a manifest that is not there yet (a deploy still uploading). */
  manifestWaitSeconds: z.int().min(0).max(3_600).default(300),
  /** Where the kernel lists mounts, to tell whether the hive mind is already mounted. */
  mountInfo: absolutePath.default("/proc/self/mountinfo"),
});

export type BootSettings = z.output<typeof BootSettingsSchema>;
export type BootSettingsInput = z.input<typeof BootSettingsSchema>;
export type Credential = z.output<typeof CredentialSchema>;

export async function loadBootSettings(file: string): Promise<BootSettings> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new BootError("SETTINGS_INVALID", file, `cannot read boot settings ${file} (${errorCode(error)}): the NixOS module writes them; pass --settings FILE`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new BootError("SETTINGS_INVALID", file, `boot settings ${file} are not JSON (${(error as Error).message})`);
  }
  return parseBootSettings(document, file);
}

export function parseBootSettings(document: unknown, source: string): BootSettings {
  const parsed = BootSettingsSchema.safeParse(document);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  - ${i.path.map(String).join(".") || "(document)"}: ${i.message}`);
  throw new BootError("SETTINGS_INVALID", source, `invalid boot settings in ${source}:\n${lines.join("\n")}`);
}
