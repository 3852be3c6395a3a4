// Validation and defaults for the resource's inputs, as pure functions (tested directly).
import type { Architecture, BootMode, Endpoints, ImportMethod, NixosAmiInputs, Tuning } from "./types.ts";

export const DEFAULTS = {
  keyPrefix: "images/",
  architecture: "x86_64",
  bootMode: "uefi",
  namePrefix: "clawdinator-nixos",
  importMethod: "ebs-direct",
  keep: 2,
  vmImportRoleName: "vmimport",
  nixBinary: "nix",
  // VM Import commonly takes 10–20 minutes.
  importTimeoutMinutes: 60,
} as const satisfies Partial<NixosAmiInputs>;

export const DEFAULT_TUNING = {
  pollInitialMs: 5_000,
  pollMaxMs: 30_000,
  ebsWorkers: 16,
  blockAttempts: 10,
  retryBaseMs: 500,
  sdkAttempts: 5,
  throttleRetries: 4,
  // AWS documents "eventually consistent" without a bound; a couple of minutes covers what is seen.
  consistencyWaitMs: 120_000,
  // A day: long enough that a snapshot of a run still in progress elsewhere is never taken for an orphan.
  orphanGraceMinutes: 1440,
  uploadPartMiB: 16,
  uploadQueueSize: 4,
} as const satisfies Tuning;

/** What Pulumi passes for a value not known yet during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface InputFailure {
  readonly property: string;
  readonly reason: string;
}

/** Inputs that stay strings even when unknown (an unknown bucket name is still a bucket name). */
const TEXT_INPUTS = new Set(["flake", "nixosConfiguration", "imagePath", "bucket", "keyPrefix", "region", "vmImportRoleName", "nixBinary", "namePrefix"]);

const ARCHITECTURES: readonly Architecture[] = ["x86_64", "arm64"];
const BOOT_MODES: readonly BootMode[] = ["uefi", "legacy-bios", "uefi-preferred"];
const IMPORT_METHODS: readonly ImportMethod[] = ["ebs-direct", "vm-import"];

export function normalizeInputs(given: Readonly<Record<string, unknown>>): { inputs: NixosAmiInputs; failures: InputFailure[] } {
  // During a preview, values that depend on resources not created yet arrive as UNKNOWN: they are
  // checked when known, at `up`.
  const raw = Object.fromEntries(Object.entries(given).filter(([key, value]) => value !== UNKNOWN || TEXT_INPUTS.has(key)));
  const failures: InputFailure[] = [];
  const fail = (property: string, reason: string): void => void failures.push({ property, reason });

  function text(name: string): string | undefined;
  function text(name: string, fallback: string): string;
  function text(name: string, fallback?: string): string | undefined {
    const value = raw[name];
    if (value === undefined || value === null || value === "") return fallback;
    if (typeof value !== "string") {
      fail(name, `must be a string, got ${typeof value}`);
      return fallback;
    }
    return value;
  }
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = text(name, fallback);
    if (value === UNKNOWN) return fallback;
    const known = allowed.find((candidate) => candidate === value);
    if (known === undefined) fail(name, `"${value}" is not one of ${allowed.map((a) => `"${a}"`).join(", ")}`);
    return known ?? fallback;
  };

  const flake = text("flake");
  const nixosConfiguration = text("nixosConfiguration");
  const imagePath = text("imagePath");
  if (imagePath !== undefined && (flake !== undefined || nixosConfiguration !== undefined)) {
    fail("imagePath", "set either imagePath (a prebuilt raw image) or flake + nixosConfiguration, not both");
  } else if (imagePath === undefined && (flake === undefined || nixosConfiguration === undefined)) {
    fail(flake === undefined ? "flake" : "nixosConfiguration", "set flake and nixosConfiguration (what to build), or imagePath (a prebuilt raw image)");
  }
  const importMethod = oneOf("importMethod", IMPORT_METHODS, DEFAULTS.importMethod);
  const bucket = text("bucket");
  // Only VM Import reads the image from S3; EBS direct writes the snapshot itself.
  if (bucket === undefined && importMethod === "vm-import") fail("bucket", 'name the S3 bucket that holds raw images (importMethod "vm-import" reads the image from S3)');
  const region = text("region");
  if (region === undefined) fail("region", 'set the AWS region, e.g. "eu-central-1"');

  const keep = raw.keep ?? DEFAULTS.keep;
  if (typeof keep !== "number" || !Number.isInteger(keep) || keep < 0) fail("keep", `must be a whole number ≥ 0, got ${JSON.stringify(keep)}`);
  const timeout = raw.importTimeoutMinutes ?? DEFAULTS.importTimeoutMinutes;
  if (typeof timeout !== "number" || !(timeout > 0)) fail("importTimeoutMinutes", `must be a positive number, got ${JSON.stringify(timeout)}`);

  const tags: Record<string, string> = {};
  if (raw.tags !== undefined && raw.tags !== null) {
    if (typeof raw.tags !== "object" || Array.isArray(raw.tags)) fail("tags", "must be a map of strings");
    else
      for (const [key, value] of Object.entries(raw.tags)) {
        if (typeof value !== "string") fail(`tags.${key}`, "must be a string");
        else if (key.startsWith("clawdinator:")) fail(`tags.${key}`, 'the "clawdinator:" prefix is reserved for the pipeline\'s own tags');
        else tags[key] = value;
      }
  }

  const endpoints: { -readonly [K in keyof Endpoints]: string } = {};
  if (raw.endpoints !== undefined && raw.endpoints !== null) {
    if (typeof raw.endpoints !== "object") fail("endpoints", "must be an object { s3?, ec2?, ebs? }");
    else
      for (const [key, value] of Object.entries(raw.endpoints)) {
        if (value === undefined || value === null) continue;
        if (key !== "s3" && key !== "ec2" && key !== "ebs") fail(`endpoints.${key}`, "known endpoints are s3, ec2 and ebs");
        else if (typeof value !== "string" || !/^https?:\/\//.test(value)) fail(`endpoints.${key}`, `must be an http(s) URL, got ${JSON.stringify(value)}`);
        else endpoints[key] = value;
      }
  }

  const tuning: { -readonly [K in keyof Tuning]: number } = { ...DEFAULT_TUNING };
  if (raw.tuning !== undefined && raw.tuning !== null) {
    if (typeof raw.tuning !== "object") fail("tuning", "must be an object");
    else
      for (const [key, value] of Object.entries(raw.tuning)) {
        if (value === undefined || value === null) continue;
        if (!isTuningKey(key)) fail(`tuning.${key}`, `unknown; known: ${Object.keys(DEFAULT_TUNING).join(", ")}`);
        else if (typeof value !== "number" || !(value > 0)) fail(`tuning.${key}`, `must be a positive number, got ${JSON.stringify(value)}`);
        else tuning[key] = value;
      }
  }

  const namePrefix = text("namePrefix", DEFAULTS.namePrefix);
  if (!/^[A-Za-z0-9()[\]./\-'@_]{1,80}$/.test(namePrefix)) fail("namePrefix", "use 1–80 of the characters AMI names allow: letters, digits, ( ) [ ] . / - ' @ _");

  const inputs: NixosAmiInputs = {
    ...(flake === undefined ? {} : { flake }),
    ...(nixosConfiguration === undefined ? {} : { nixosConfiguration }),
    ...(imagePath === undefined ? {} : { imagePath }),
    bucket: bucket ?? "",
    keyPrefix: text("keyPrefix", DEFAULTS.keyPrefix),
    region: region ?? "",
    architecture: oneOf("architecture", ARCHITECTURES, DEFAULTS.architecture),
    bootMode: oneOf("bootMode", BOOT_MODES, DEFAULTS.bootMode),
    namePrefix,
    tags,
    importMethod,
    keep: typeof keep === "number" ? keep : DEFAULTS.keep,
    vmImportRoleName: text("vmImportRoleName", DEFAULTS.vmImportRoleName),
    nixBinary: text("nixBinary", DEFAULTS.nixBinary),
    endpoints,
    importTimeoutMinutes: typeof timeout === "number" ? timeout : DEFAULTS.importTimeoutMinutes,
    tuning,
  };
  return { inputs, failures };
}

function isTuningKey(key: string): key is keyof Tuning {
  return Object.hasOwn(DEFAULT_TUNING, key);
}

/** Parses Pulumi's `customTimeouts.create` ("90m", "1h30m", "45s") into minutes. */
export function timeoutMinutes(value: string | undefined, fallbackMinutes: number): number {
  if (value === undefined || value === "") return fallbackMinutes;
  const units: Record<string, number> = { h: 60, m: 1, s: 1 / 60 };
  let total = 0;
  const rest = value.replace(/(\d+(?:\.\d+)?)(h|m|s)/g, (_whole, amount: string, unit: string) => {
    total += Number(amount) * (units[unit] ?? 0);
    return "";
  });
  if (rest !== "" || total <= 0) throw new Error(`customTimeouts.create "${value}" is not a duration; write it like "40m" or "1h30m"`);
  return total;
}
