// `clawdinator image build|upload|import|ls|prune|adopt|forget`: the image pipeline by hand, the successor of
// the upstream's build-image.sh / upload-image.sh / import-image.sh. The same steps the Pulumi
// resource runs (providers/nixos-ami), with progress bars on a terminal and plain lines otherwise.
import { execFile } from "node:child_process";
import type { Writable } from "node:stream";
import { promisify } from "node:util";
import type * as Steps from "../../providers/nixos-ami/steps.ts";
import type { Endpoints, NixosAmiInputs } from "../../providers/nixos-ami/types.ts";
import { COMMON_HELP, parseOptions, UsageError, type CliCommand, type CliIo } from "../io.ts";
import { credentialsFrom } from "../aws.ts";
import { checkRegion } from "../region.ts";

type StepsModule = typeof Steps;

export const OPTIONS = [
  "flake",
  "configuration",
  "image",
  "nix",
  "bucket",
  "key-prefix",
  "region",
  "method",
  "name-prefix",
  "keep",
  "architecture",
  "boot-mode",
  "timeout",
  "s3-endpoint",
  "ec2-endpoint",
  "ebs-endpoint",
  "protect",
  "fleet-stack",
  "grace",
  "ami",
] as const;
export const FLAGS = ["json", "dry-run", "yes"] as const;

export const USAGE = `usage: clawdinator image <build|upload|import|ls|prune|adopt|forget> [options]
  build   --flake REF --configuration NAME [--nix BIN]          nix build of the raw image; prints identity and path
  upload  (--flake REF --configuration NAME | --image FILE) --bucket B [--key-prefix P]
                                                               multipart upload to S3 (skipped when already there)
  import  (--flake REF --configuration NAME | --image FILE) --region R [--bucket B (vm-import)]
          [--method ebs-direct|vm-import] [--name-prefix P] [--keep N] [--boot-mode M] [--architecture A] [--timeout 60m]
                                                               the whole pipeline: adopt, build, snapshot, register, prune
  ls      --region R [--name-prefix P]                         the AMIs this pipeline made, newest first
  prune   --region R --keep N [--name-prefix P] [--protect ami-1,ami-2] [--fleet-stack NAME]
          [--grace 24h] [--dry-run | --yes]                    remove images beyond the newest N (N >= 1) and
                                                               orphaned snapshots older than --grace; never the
                                                               newest, a protected one, the fleet stack's amiId, or
                                                               one an instance or launch template uses. On a
                                                               terminal it is a dry run unless --yes is given.
  adopt   --ami ID (--flake REF --configuration NAME | --image FILE) --region R [--name-prefix P]
                                                               tag an existing AMI as this image (resolves NAME_TAKEN)
  forget  --ami ID --region R                                  remove the pipeline's tags: never adopted or pruned again
Common: --json (machine-readable result), --s3-endpoint/--ec2-endpoint/--ebs-endpoint URL.
Environment: CLAWDINATOR_IMAGE_BUCKET, AWS_REGION, AWS_ENDPOINT_URL_S3/_EC2/_EBS (or AWS_ENDPOINT_URL), AWS credentials as usual.`;

interface Context {
  readonly options: Map<string, string>;
  readonly io: CliIo;
  readonly steps: StepsModule;
  readonly report: Steps.Reporter;
}

export const command: CliCommand = {
  async run(args, io) {
    const [subcommand, ...rest] = args;
    if (subcommand === undefined || subcommand === "--help" || subcommand === "-h" || subcommand === "help") {
      io.stdout.write(`${USAGE}\n\n${COMMON_HELP}\n`);
      return subcommand === undefined ? 2 : 0;
    }
    const handler = SUBCOMMANDS[subcommand];
    if (!handler) throw new UsageError(`unknown image command "${subcommand}"; run \`clawdinator image --help\``);
    // `clawdinator help` advertises `image <subcommand> --help`: the usage covers every subcommand.
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout.write(`${USAGE}\n\n${COMMON_HELP}\n`);
      return 0;
    }
    const { options, positional } = parseOptions(rest, OPTIONS, FLAGS, USAGE);
    if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"`, { usage: USAGE });
    const steps: StepsModule = await import("../../providers/nixos-ami/steps.ts");
    const bar = progressReporter(io.stderr, steps.lineReporter);
    try {
      await handler({ options, io, steps, report: bar.report });
    } finally {
      bar.finish();
    }
    return 0;
  },
};

const SUBCOMMANDS: Readonly<Record<string, (context: Context) => Promise<void>>> = {
  async build({ options, io, steps, report }) {
    const source = imageSourceFrom(options, steps, { allowImage: false });
    if (source.kind !== "flake") throw new UsageError("build needs --flake and --configuration");
    const identity = await steps.resolveIdentity(source, io.signal);
    const built = await steps.buildImage(source, report, io.signal);
    print(io, options, { identity: identity.identity, closure: identity.closure, image: built.filePath, format: built.format, sizeBytes: built.sizeBytes });
  },

  async upload({ options, io, steps, report }) {
    const source = imageSourceFrom(options, steps, { allowImage: true });
    const bucket = required(options, "bucket", io.env.CLAWDINATOR_IMAGE_BUCKET, "CLAWDINATOR_IMAGE_BUCKET");
    const identity = await steps.resolveIdentity(source, io.signal);
    const built = source.kind === "prebuilt" ? await steps.locateImage(source.imagePath) : await steps.buildImage(source, report, io.signal);
    const clients = clientsFor(steps, io, region(options, io), endpoints(options, io));
    try {
      const settings = { bucket, keyPrefix: options.get("key-prefix") ?? steps.DEFAULTS.keyPrefix, tuning: steps.DEFAULT_TUNING };
      const result = await steps.uploadToS3(settings, built, identity, { clients, report, signal: io.signal });
      print(io, options, { s3: `s3://${bucket}/${result.key}`, sha256: result.imageSha256, identity: identity.identity, uploaded: result.uploaded });
    } finally {
      steps.destroyClients(clients);
    }
  },

  async import({ options, io, steps, report }) {
    const raw: Record<string, unknown> = {
      flake: options.get("flake"),
      nixosConfiguration: options.get("configuration"),
      imagePath: options.get("image"),
      nixBinary: options.get("nix"),
      bucket: options.get("bucket") ?? io.env.CLAWDINATOR_IMAGE_BUCKET,
      keyPrefix: options.get("key-prefix"),
      region: region(options, io),
      importMethod: options.get("method"),
      namePrefix: options.get("name-prefix"),
      keep: options.has("keep") ? wholeNumber(options, "keep") : undefined,
      architecture: options.get("architecture"),
      bootMode: options.get("boot-mode"),
      importTimeoutMinutes: options.has("timeout") ? minutes(options.get("timeout") ?? "", "timeout") : undefined,
      endpoints: endpoints(options, io),
    };
    const inputs = validInputs(steps, raw);
    const clients = clientsFor(steps, io, inputs.region, inputs.endpoints);
    try {
      const { adopted, ...outputs } = await steps.ensureImage(inputs, { clients, report, signal: io.signal });
      print(io, options, { ...outputs, adopted });
    } finally {
      steps.destroyClients(clients);
    }
  },

  async ls({ options, io, steps }) {
    const clients = clientsFor(steps, io, region(options, io), endpoints(options, io));
    try {
      const images = await steps.listImages(clients.ec2, options.get("name-prefix"));
      if (options.has("json")) {
        io.stdout.write(`${JSON.stringify(images.map((image) => ({ ...image, tags: Object.fromEntries(image.tags) })))}\n`);
        return;
      }
      if (images.length === 0) io.stdout.write("no images\n");
      for (const image of images) {
        io.stdout.write(`${image.amiId}  ${image.creationDate}  ${image.name}  ${image.tags.get(steps.TAG.identity) ?? ""}\n`);
      }
    } finally {
      steps.destroyClients(clients);
    }
  },

  async prune({ options, io, steps, report }) {
    const keep = wholeNumber(options, "keep");
    if (keep < 1) throw new UsageError(`--keep must be at least 1 (how many of the newest images stay), got ${keep}; the newest image is never removed`);
    if (options.has("dry-run") && options.has("yes")) throw new UsageError("--dry-run and --yes contradict each other; give one");
    const namePrefix = options.get("name-prefix") ?? steps.DEFAULTS.namePrefix;
    const graceMinutes = options.has("grace") ? minutes(options.get("grace") ?? "", "grace") : steps.DEFAULT_TUNING.orphanGraceMinutes;
    // A person at a terminal sees what would go first; scripts (no terminal) and --yes act.
    const interactive = io.stdin.isTTY === true || io.stdout.isTTY === true;
    const dryRun = options.has("dry-run") || (interactive && !options.has("yes"));
    const protect = [...protectedAmis(options), ...(options.has("fleet-stack") ? [await fleetStackAmi(options.get("fleet-stack") ?? "", io)] : [])];
    const clients = clientsFor(steps, io, region(options, io), endpoints(options, io));
    try {
      const { removed, spared } = await steps.inPhase("retention", report, () => steps.pruneImages(clients, { namePrefix, keep, protect, dryRun }, report));
      const swept = await steps.inPhase("retention", report, () => steps.sweepOrphanSnapshots(clients.ec2, { graceMinutes, dryRun }, report));
      print(io, options, {
        [dryRun ? "wouldRemove" : "removed"]: removed.map((image) => image.amiId).join(" ") || "nothing",
        ...(spared.length > 0 ? { keptInUse: spared.map(({ image, reason }) => `${image.amiId} (${reason})`).join("; ") } : {}),
        ...(protect.length > 0 ? { protected: protect.join(" ") } : {}),
        [dryRun ? "wouldDeleteSnapshots" : "deletedSnapshots"]: swept.join(" ") || "nothing",
      });
      if (dryRun && !options.has("dry-run")) io.stderr.write("dry run (a terminal): nothing was removed; run again with --yes to remove it\n");
    } finally {
      steps.destroyClients(clients);
    }
  },

  async adopt({ options, io, steps, report }) {
    const amiId = amiOption(options);
    const source = imageSourceFrom(options, steps, { allowImage: true });
    report({ step: "identity", message: source.kind === "flake" ? `nix eval ${source.flake}#${source.nixosConfiguration}` : `sha256 ${source.imagePath}` });
    const identity = await steps.resolveIdentity(source, io.signal);
    const clients = clientsFor(steps, io, region(options, io), endpoints(options, io));
    try {
      const namePrefix = options.get("name-prefix") ?? steps.DEFAULTS.namePrefix;
      const image = await steps.inPhase("adopt", report, () => steps.adoptImage(clients.ec2, { amiId, identity, namePrefix }));
      print(io, options, { adopted: image.amiId, name: image.name, snapshotId: image.snapshotId, identity: identity.identity });
    } finally {
      steps.destroyClients(clients);
    }
  },

  async forget({ options, io, steps, report }) {
    const amiId = amiOption(options);
    const clients = clientsFor(steps, io, region(options, io), endpoints(options, io));
    try {
      const { image, removedKeys } = await steps.inPhase("adopt", report, () => steps.forgetImage(clients.ec2, amiId));
      print(io, options, { forgotten: image.amiId, name: image.name, removedTags: removedKeys.join(" ") || "none" });
    } finally {
      steps.destroyClients(clients);
    }
  },
};

function amiOption(options: Map<string, string>): string {
  const amiId = options.get("ami");
  if (amiId === undefined || !/^ami-[0-9a-f]{8,17}$/.test(amiId)) throw new UsageError(`--ami needs an AMI id like ami-0123456789abcdef0${amiId === undefined ? "" : `, got "${amiId}"`}`);
  return amiId;
}

/** `--protect ami-1,ami-2` (and the option repeated is not supported: one comma list). */
function protectedAmis(options: Map<string, string>): string[] {
  const text = options.get("protect");
  if (text === undefined) return [];
  const ids = text.split(",").map((id) => id.trim()).filter(Boolean);
  const bad = ids.filter((id) => !/^ami-[0-9a-f]{8,17}$/.test(id));
  if (ids.length === 0 || bad.length > 0) throw new UsageError(`--protect takes AMI ids separated by commas, e.g. --protect ami-0123456789abcdef0; not an AMI id: ${bad.join(", ") || "(empty)"}`);
  return ids;
}

/**
 * The fleet stack's `amiId` output (infra/fleet.ts), read with the Pulumi CLI from the project in
 * the current directory. Any failure is an error: pruning without a protection the user asked for
 * could remove the AMI the fleet runs.
 */
async function fleetStackAmi(stack: string, io: CliIo): Promise<string> {
  if (stack === "") throw new UsageError("--fleet-stack needs the stack name, e.g. --fleet-stack fleet");
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)("pulumi", ["stack", "output", "--json", "--stack", stack], { cwd: io.cwd, env: io.env, signal: io.signal }));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "the pulumi CLI is not on PATH" : ((error as { stderr?: string }).stderr || (error as Error).message).trim();
    throw new UsageError(`could not read the outputs of stack ${stack} (${reason}); pass its AMI with --protect ami-... instead (\`pulumi stack output amiId --stack ${stack}\`)`);
  }
  let amiId: unknown;
  try {
    amiId = (JSON.parse(stdout) as { amiId?: unknown }).amiId;
  } catch {
    throw new UsageError(`pulumi stack output --json --stack ${stack} printed no JSON; pass the fleet's AMI with --protect ami-...`);
  }
  if (typeof amiId !== "string" || !amiId.startsWith("ami-"))
    throw new UsageError(`stack ${stack} has no amiId output (is it the fleet stack?); pass the fleet's AMI with --protect ami-...`);
  return amiId;
}

function imageSourceFrom(options: Map<string, string>, steps: StepsModule, { allowImage }: { allowImage: boolean }): Steps.ImageSource {
  const image = options.get("image");
  if (image !== undefined) {
    if (!allowImage) throw new UsageError("--image is a prebuilt image: nothing to build; use `clawdinator image upload --image` or `import --image`");
    return steps.imageSource({ imagePath: image, nixBinary: "nix" });
  }
  const flake = options.get("flake");
  const nixosConfiguration = options.get("configuration");
  if (flake === undefined || nixosConfiguration === undefined)
    throw new UsageError("say what to build with --flake REF --configuration NAME (or pass a prebuilt --image FILE)");
  return steps.imageSource({ flake, nixosConfiguration, nixBinary: options.get("nix") ?? steps.DEFAULTS.nixBinary });
}

/** Validates through the resource's own rules, naming the flag instead of the input property. */
function validInputs(steps: StepsModule, raw: Record<string, unknown>): NixosAmiInputs {
  const { inputs, failures } = steps.normalizeInputs(raw);
  const flagFor: Record<string, string> = {
    nixosConfiguration: "--configuration",
    imagePath: "--image",
    importMethod: "--method",
    nixBinary: "--nix",
    namePrefix: "--name-prefix",
    keyPrefix: "--key-prefix",
    bootMode: "--boot-mode",
    importTimeoutMinutes: "--timeout",
    bucket: "--bucket (or CLAWDINATOR_IMAGE_BUCKET)",
    region: "--region (or AWS_REGION)",
  };
  if (failures.length > 0) {
    const lines = failures.map((failure) => `${flagFor[failure.property] ?? `--${failure.property}`}: ${failure.reason}`);
    throw new UsageError(lines.join("\n"));
  }
  return inputs;
}

function required(options: Map<string, string>, name: string, fallback: string | undefined, envName: string): string {
  const value = options.get(name) ?? fallback;
  if (!value) throw new UsageError(`--${name} is required (or set ${envName})`);
  return value;
}

/** The pipeline's clients, signing with the keys in the command's environment when it has them. */
function clientsFor(steps: StepsModule, io: CliIo, region: string, endpoints: Endpoints): Steps.AwsClients {
  return steps.createClients(region, endpoints, steps.DEFAULT_TUNING, credentialsFrom(io.env));
}

function region(options: Map<string, string>, io: CliIo): string {
  const from = options.has("region") ? "--region" : io.env.AWS_REGION ? "AWS_REGION" : "AWS_DEFAULT_REGION";
  return checkRegion(required(options, "region", io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION, "AWS_REGION"), from);
}

/**
 * Flags first, then the SDK's standard variables. They are passed on explicitly (the SDK reads
 * them too) because an explicit S3 endpoint switches to path-style addressing, which emulators need.
 */
function endpoints(options: Map<string, string>, io: CliIo): Endpoints {
  const result: { -readonly [K in keyof Endpoints]: string } = {};
  for (const service of ["s3", "ec2", "ebs"] as const) {
    const url = options.get(`${service}-endpoint`) ?? io.env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] ?? io.env.AWS_ENDPOINT_URL;
    if (url !== undefined && url !== "") result[service] = url;
  }
  return result;
}

function wholeNumber(options: Map<string, string>, name: string): number {
  const text = options.get(name);
  if (text === undefined) throw new UsageError(`--${name} is required`);
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got "${text}"`);
  return Number(text);
}

function minutes(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(h|m|s)?$/.exec(text);
  if (!match) throw new UsageError(`--${flag} must look like 40m, 2h or 90s, got "${text}"`);
  const factor = match[2] === "h" ? 60 : match[2] === "s" ? 1 / 60 : 1;
  return Number(match[1]) * factor;
}

function print(io: CliIo, options: Map<string, string>, result: Record<string, string | number | boolean>): void {
  if (options.has("json")) io.stdout.write(`${JSON.stringify(result)}\n`);
  else for (const [key, value] of Object.entries(result)) io.stdout.write(`${key}: ${value}\n`);
}

const BAR_WIDTH = 30;

/**
 * On a terminal: one bar per step (the phase), redrawn in place, with bytes, rate and ETA once they
 * can be computed. Otherwise (CI logs, pipes): the same plain lines the Pulumi provider prints, at
 * each tenth and at least every 30 s.
 */
export function progressReporter(
  stream: Writable & { isTTY?: boolean; columns?: number },
  lineReporter: StepsModule["lineReporter"],
  now: () => number = Date.now,
): { report: Steps.Reporter; finish(): void } {
  if (!stream.isTTY) return { report: lineReporter((line) => stream.write(`${line}\n`), "image"), finish: () => undefined };
  let open = false;
  let lastStep = "";
  /** Where the current step started: its time, percent and bytes, for the rate and the ETA. */
  let start = { at: 0, percent: 0, bytes: 0 };
  const report: Steps.Reporter = (event) => {
    if (event.percent === undefined) {
      if (open) stream.write("\n");
      open = false;
      stream.write(`${event.step}: ${event.message}\n`);
      return;
    }
    if (event.step !== lastStep) start = { at: now(), percent: event.percent, bytes: event.bytes?.done ?? 0 };
    if (open && event.step !== lastStep) stream.write("\n");
    const filled = Math.round((Math.min(100, Math.max(0, event.percent)) / 100) * BAR_WIDTH);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    const detail = [...rateAndEta(event, start, now()), event.message].join("  ");
    const text = `${event.step.padEnd(10)} ${bar} ${event.percent.toFixed(0).padStart(3)}%  ${detail}`;
    stream.write(`\r\x1b[2K${text.slice(0, (stream.columns ?? 100) - 1)}`);
    open = true;
    lastStep = event.step;
  };
  return {
    report,
    finish: () => {
      if (open) stream.write("\n");
      open = false;
    },
  };
}

/** `12.0/256.0 MiB`, `4.0 MiB/s`, `ETA 1:01` as far as the events so far allow (a second event of the step). */
function rateAndEta(event: Steps.ProgressEvent, start: { at: number; percent: number; bytes: number }, at: number): string[] {
  const parts: string[] = [];
  const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
  if (event.bytes) parts.push(`${mib(event.bytes.done)}/${mib(event.bytes.total)} MiB`);
  const seconds = (at - start.at) / 1000;
  if (seconds < 0.5 || (event.percent ?? 0) >= 100) return parts;
  let remaining: number | undefined;
  if (event.bytes && event.bytes.done > start.bytes) {
    const rate = (event.bytes.done - start.bytes) / seconds;
    parts.push(`${mib(rate)} MiB/s`);
    remaining = (event.bytes.total - event.bytes.done) / rate;
  } else if ((event.percent ?? 0) > start.percent) {
    remaining = ((100 - (event.percent ?? 0)) * seconds) / ((event.percent ?? 0) - start.percent);
  }
  if (remaining !== undefined && Number.isFinite(remaining)) {
    const total = Math.ceil(remaining);
    parts.push(`ETA ${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`);
  }
  return parts;
}
