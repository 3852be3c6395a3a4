// `clawdinator bootstrap upload`: packs one instance's bootstrap bundle and uploads it outside
// `pulumi up`, for repair (a deleted object, a re-encrypted secret before the next deploy). The
// object list comes from the same pure plan the Pulumi program declares (infra/bundle.ts).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { BundleError, planBundle, type BootFacts } from "../../infra/bundle.ts";
import { readBundleSettings, StackConfigError } from "../../infra/config.ts";
import { FLEET_NAME } from "../../infra/invariants.ts";
import { INSTANCE_NAME, stackNameOf } from "../../infra/stacks.ts";
import { COMMON_HELP, parseCommandLine, UsageError, type CliCommand, type CliIo } from "../io.ts";
import { credentialsFrom, endpointFrom } from "../aws.ts";
import { checkRegion } from "../region.ts";
import yaml from "js-yaml";

const HELP = `usage: clawdinator bootstrap upload --instance CLAWDINATOR-<n> [options]

Packs the bootstrap bundle of one instance (agenix secrets, repos.json, config.json, boot.json,
manifest.json) exactly as \`pulumi up\` declares it, uploads it under bootstrap/<instance>/, and reads
every object back to check its SHA-256.

  --instance NAME       CLAWDINATOR-<n> (required)
  --outputs FILE        the instance stack's \`pulumi stack output --json\` (bucket, EFS ids)
  --bucket NAME         bootstrap bucket (default: bootstrapBucket from --outputs)
  --efs-id ID           hive mind file system (default: efsId from --outputs)
  --access-point-id ID  hive mind access point (default: efsAccessPointId from --outputs)
  --age-identity-parameter NAME
                        the instance's SSM parameter, /<fleet>/<instance>/age-identity
                        (default: ageIdentityParameter from --outputs)
  --stack-file FILE     stack config to read secrets/repos/agent from (default: Pulumi.clawdinator-<n>.yaml)
  --secrets-dir DIR     folder of <name>.age files (default: the stack's clawdinators:secretsDir)
  --region REGION       AWS region (default: the stack's aws:region, then AWS_REGION)
  --endpoint-url URL    S3 endpoint (an emulator, another partition; default: AWS_ENDPOINT_URL_S3,
                        then AWS_ENDPOINT_URL)
  --dry-run             list what would be uploaded, upload nothing`;

export const OPTIONS = {
  instance: { type: "string" },
  outputs: { type: "string" },
  bucket: { type: "string" },
  "efs-id": { type: "string" },
  "access-point-id": { type: "string" },
  "age-identity-parameter": { type: "string" },
  "stack-file": { type: "string" },
  "secrets-dir": { type: "string" },
  region: { type: "string" },
  "endpoint-url": { type: "string" },
  "dry-run": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** A stack output document, as `pulumi stack output --json` prints it. */
type StackOutputs = Readonly<Record<string, unknown>>;

export const command: CliCommand = {
  async run(args, io) {
    const [action, ...rest] = args;
    if (action === undefined || action === "--help" || action === "-h" || action === "help") {
      io.stdout.write(`${HELP}\n\n${COMMON_HELP}\n`);
      return action === undefined ? 2 : 0;
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout.write(`${HELP}\n\n${COMMON_HELP}\n`);
      return 0;
    }
    if (action !== "upload") throw new UsageError(`unknown bootstrap action "${action}"`, { usage: HELP });
    return upload(rest, io);
  },
};

async function upload(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandLine(args, { options: OPTIONS, usage: HELP });
  const options = new Map(Object.entries(values).map(([name, value]) => [name, String(value)]));
  const instance = options.get("instance");
  if (!instance || !INSTANCE_NAME.test(instance)) throw new UsageError(`--instance must be CLAWDINATOR-<n> (got ${instance ? `"${instance}"` : "nothing"}), e.g. --instance CLAWDINATOR-1`);

  const stackFile = path.resolve(io.cwd, options.get("stack-file") ?? `Pulumi.${stackNameOf(instance)}.yaml`);
  const settings = await readSettings(stackFile, instance);
  const outputs = options.has("outputs") ? await readOutputs(path.resolve(io.cwd, options.get("outputs") ?? "")) : {};
  const pick = (option: string, output: string): string => {
    const fromOutputs = outputs[output];
    const value = options.get(option) ?? (typeof fromOutputs === "string" ? fromOutputs : undefined);
    if (!value) throw new UsageError(`--${option} is needed (or --outputs with "${output}"): pulumi stack output --json --stack ${stackNameOf(instance)} > outputs.json`);
    return value;
  };
  const bucket = pick("bucket", "bootstrapBucket");
  const regionFrom = options.has("region") ? "--region" : settings["aws:region"] ? `aws:region in ${stackFile}` : "AWS_REGION";
  const region = options.get("region") ?? settings["aws:region"] ?? io.env.AWS_REGION;
  if (!region) throw new UsageError(`no region: pass --region or set aws:region in ${stackFile}`);
  checkRegion(region, regionFrom);
  // The fleet's name is part of it and only the stacks know it, so it comes from the outputs, never a default.
  const ageIdentityParameter = pick("age-identity-parameter", "ageIdentityParameter");
  if (!ageIdentityParameterOf(instance).test(ageIdentityParameter)) {
    throw new UsageError(
      `--age-identity-parameter ${ageIdentityParameter} is not ${instance}'s parameter (/<fleet>/${instance}/age-identity); ` +
        `take the outputs of its own stack: pulumi stack output --json --stack ${stackNameOf(instance)} > outputs.json`,
    );
  }
  const boot: BootFacts = { bucket, region, fileSystemId: pick("efs-id", "efsId"), accessPointId: pick("access-point-id", "efsAccessPointId"), ageIdentityParameter };

  const secretsDir = path.resolve(path.dirname(stackFile), options.get("secrets-dir") ?? settings.secretsDir);
  let objects;
  try {
    const plan = await planBundle({ instance, secretsDir, secrets: settings.secrets, repos: settings.repos, agent: settings.agent });
    objects = plan.render(boot);
  } catch (error) {
    if (error instanceof BundleError) throw new UsageError(error.message);
    throw error;
  }

  if (options.has("dry-run")) {
    for (const o of objects) io.stdout.write(`would upload s3://${bucket}/${o.key} (${o.body.length} bytes, sha256 ${o.sha256})\n`);
    return 0;
  }
  const { S3Client, PutObjectCommand, GetObjectCommand } = await import("@aws-sdk/client-s3");
  const endpoint = options.get("endpoint-url") ?? endpointFrom(io.env, "s3");
  const credentials = credentialsFrom(io.env);
  const s3 = new S3Client({ region, ...(endpoint ? { endpoint, forcePathStyle: true } : {}), ...(credentials ? { credentials } : {}) });
  try {
    // In plan order: the manifest last, so a reader never sees a manifest listing missing objects.
    for (const o of objects) {
      if (io.signal.aborted) throw new Error("interrupted; the manifest was not updated, rerun to finish");
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: o.key,
          Body: o.body,
          ContentType: o.contentType,
          // The plan's digest, base64 as S3 wants it: S3 refuses a body that does not match.
          ChecksumSHA256: Buffer.from(o.sha256, "hex").toString("base64"),
          ServerSideEncryption: "AES256",
        }),
        { abortSignal: io.signal },
      );
      const back = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.key }), { abortSignal: io.signal });
      const stored = Buffer.from((await back.Body?.transformToByteArray()) ?? new Uint8Array());
      const digest = createHash("sha256").update(stored).digest("hex");
      if (digest !== o.sha256) throw new Error(`s3://${bucket}/${o.key} reads back with sha256 ${digest}, expected ${o.sha256}; rerun the upload`);
      io.stdout.write(`uploaded s3://${bucket}/${o.key} (${o.body.length} bytes, sha256 ${o.sha256.slice(0, 12)})\n`);
    }
  } finally {
    s3.destroy();
  }
  io.stdout.write(`${instance}: ${objects.length} objects under s3://${bucket}/bootstrap/${instance}/, verified. The instance reads them at its next boot.\n`);
  return 0;
}

/** `/<fleet>/<instance>/age-identity` for this instance and any valid fleet name. */
function ageIdentityParameterOf(instance: string): RegExp {
  return new RegExp(`^/${FLEET_NAME.source.slice(1, -1)}/${instance}/age-identity$`);
}

async function readSettings(stackFile: string, instance: string): Promise<ReturnType<typeof readBundleSettings>> {
  let text: string;
  try {
    text = await readFile(stackFile, "utf8");
  } catch {
    throw new UsageError(`cannot read ${stackFile}: pass --stack-file, or run from the project folder (pulumi stack init ${stackNameOf(instance)} creates it)`);
  }
  let document: unknown;
  try {
    document = yaml.load(text);
  } catch (error) {
    throw new UsageError(`${stackFile} is not valid YAML: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
  }
  // An empty file or one without `config:` has no settings (defaults apply); any other shape is a mistake.
  const config = document === undefined || document === null ? {} : isMapping(document) ? (document.config ?? {}) : undefined;
  if (!isMapping(config)) throw new UsageError(`${stackFile}: expected a mapping with a config: mapping inside, as pulumi config set writes it`);
  const raw = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  try {
    return readBundleSettings(stackNameOf(instance), raw);
  } catch (error) {
    if (error instanceof StackConfigError) throw new UsageError(`${stackFile}: ${error.message}`);
    throw error;
  }
}

function isMapping(value: unknown): value is Readonly<Record<string, unknown>> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

async function readOutputs(file: string): Promise<StackOutputs> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as unknown;
    if (!isMapping(parsed)) throw new Error("not a JSON object");
    return parsed;
  } catch (error) {
    throw new UsageError(`--outputs ${file}: ${error instanceof Error ? error.message : String(error)}; create it with pulumi stack output --json > ${path.basename(file)}`);
  }
}
