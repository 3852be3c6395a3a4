// The shapes `infra/bundle.ts` writes and the boot service reads (docs/SECRETS.md, "At boot").
// The agent may not import infra/, so the contract is restated here as schemas, and a test builds a
// bundle with infra/bundle.ts and boots from it: the two cannot drift apart unnoticed.
import { z } from "zod";
import { BootError } from "./errors.ts";
import { SECRET_NAME } from "./settings.ts";

const INSTANCE = /^CLAWDINATOR-[1-9][0-9]{0,3}$/;
/** A key inside the instance's prefix: no absolute path, no `..`, nothing a path join could escape with. */
const relativeKey = z.string().regex(/^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[\w./-]{1,512}$/, { error: "must be a plain relative key" });

export const UserDataSchema = z.object({
  clawdinator: z.object({
    bootstrap: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/bootstrap\/CLAWDINATOR-[1-9][0-9]{0,3}\/$/, {
      error: "must be s3://<bucket>/bootstrap/CLAWDINATOR-<n>/",
    }),
  }),
});

export const ManifestSchema = z.object({
  version: z.literal(1),
  instance: z.string().regex(INSTANCE),
  objects: z.array(z.object({ key: relativeKey, sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.int().min(0) })).min(1),
});

export const BootDocumentSchema = z.object({
  version: z.literal(1),
  instance: z.string().regex(INSTANCE),
  region: z.string().min(1),
  ageIdentityParameter: z.string().regex(/^\/[\w./-]{1,1000}$/, { error: "must be an SSM parameter name" }),
  secrets: z.array(z.object({ object: relativeKey, path: z.string().min(1) })),
  hiveMind: z
    .object({
      fileSystemId: z.string().regex(/^fs-[0-9a-f]{8,40}$/, { error: "must be an EFS file system id" }),
      accessPointId: z.string().regex(/^fsap-[0-9a-f]{8,40}$/, { error: "must be an EFS access point id" }),
    })
    .optional(),
  config: relativeKey,
  repos: relativeKey,
});

/** The bundle's config.json: an object here; the agent's own schema checks it once merged. */
export const ConfigObjectSchema = z.record(z.string(), z.unknown());

export const RepoSeedsSchema = z.array(z.object({ name: z.string().min(1), url: z.string().min(1), branch: z.string().min(1).optional() }));

export type Manifest = z.output<typeof ManifestSchema>;
export type BootDocument = z.output<typeof BootDocumentSchema>;

/** Where the bundle lives, from the user data. */
export interface BundleLocation {
  readonly bucket: string;
  readonly prefix: string;
  readonly instance: string;
}

export function parseUserData(text: string): BundleLocation {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new BootError(
      "USER_DATA_INVALID",
      "user-data",
      'the instance user data is not JSON; it must be {"clawdinator":{"bootstrap":"s3://<bucket>/bootstrap/CLAWDINATOR-<n>/"}} (pulumi up writes it)',
    );
  }
  const parsed = UserDataSchema.safeParse(document);
  if (!parsed.success) {
    throw new BootError("USER_DATA_INVALID", "user-data", `the instance user data has no valid clawdinator.bootstrap: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  }
  const url = parsed.data.clawdinator.bootstrap.slice("s3://".length);
  const slash = url.indexOf("/");
  const prefix = url.slice(slash + 1);
  return { bucket: url.slice(0, slash), prefix, instance: prefix.split("/")[1] ?? "" };
}

/** Parses one fetched bundle document against its schema; the error names the object. */
export function parseBundleJson<S extends z.ZodType>(key: string, body: Buffer, schema: S): z.output<S> {
  let document: unknown;
  try {
    document = JSON.parse(body.toString("utf8"));
  } catch {
    throw new BootError("BUNDLE_INVALID", key, `${key} in the bootstrap bundle is not JSON; re-upload the bundle (pulumi up, or clawdinator bootstrap upload)`);
  }
  const parsed = schema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map(String).join(".") || "(document)";
    throw new BootError("BUNDLE_INVALID", key, `${key} in the bootstrap bundle is invalid at ${where}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** The secret's name from its bundle object `secrets/<name>.age`; anything else is refused. */
export function secretNameOf(object: string): string {
  const match = /^secrets\/([^/]+)\.age$/.exec(object);
  if (!match?.[1] || !SECRET_NAME.test(match[1])) {
    throw new BootError("BUNDLE_INVALID", object, `boot.json lists a secret object "${object}" that is not secrets/<name>.age with a plain name`);
  }
  return match[1];
}
