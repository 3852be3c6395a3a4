// Shared set-up for the image pipeline tests: s3rver (S3), the EC2/EBS fake, and a fake `nix`.
import { createHash, randomFillSync } from "node:crypto";
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { startEc2Fake, type Ec2Fake } from "../fakes/ec2/index.ts";
import { startRefusingS3, startS3, type S3Fake } from "../helpers/s3.ts";

export { startS3, type S3Fake, type S3Request } from "../helpers/s3.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const FAKE_NIX_SCRIPT = path.join(HERE, "fake-nix.sh");

// The SDK needs credentials: s3rver knows only S3RVER/S3RVER, the EC2 fake accepts any.
process.env.AWS_ACCESS_KEY_ID = "S3RVER";
process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
delete process.env.AWS_PROFILE;

/** The image a world's nix builds unless a test asks for another size: small, since it is written up front. */
const DEFAULT_IMAGE = { sizeMiB: 2, dataMiB: 2 } as const;

export interface FakeNixOptions {
  readonly seed: string;
  /** The raw image's size. @default 2 */
  readonly sizeMiB?: number;
  /** How much of it holds data, in four runs of whole 512 KiB blocks (so at least 2 for any data). @default 2 */
  readonly dataMiB?: number;
  readonly failBuild?: boolean;
}

export interface FakeNix {
  /** Pass as `nixBinary`. */
  readonly binary: string;
  /** The nix subcommands run so far ("eval", "build"). */
  commands(): Promise<string[]>;
  /** Rewrites the settings (a new seed is a new identity). */
  configure(options: FakeNixOptions): Promise<void>;
}

/** 32 characters of Nix's base32 alphabet (no e, o, u, t), derived from the text: a plausible store hash. */
function storeHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 32).replaceAll("f", "g").replaceAll("e", "f");
}

/** A shell word that stays one literal word whatever the text holds. */
const shellQuote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

/** The unit of the fake image's layout: EBS's block size, so a run of data fills whole blocks. */
const LAYOUT_UNIT = 512 * 1024;

/**
 * What `nix build` of the fake would produce, written here rather than by the script: a sparse raw
 * image of `sizeMiB` with random data in four runs spread over the disk (like a partition table,
 * boot files, store, tail), each a whole number of 512 KiB blocks, and nixpkgs'
 * `nix-support/image-info.json` naming it. Written once per output, like a store path.
 */
async function writeBuildOutput(out: string, sizeMiB: number, dataMiB: number): Promise<void> {
  const imagePath = path.join(out, "nixos.raw");
  if (await stat(imagePath).then(() => true, () => false)) return;
  await mkdir(path.join(out, "nix-support"), { recursive: true });
  const sizeUnits = Math.floor((sizeMiB * 2 ** 20) / LAYOUT_UNIT);
  const runUnits = Math.floor((dataMiB * 2 ** 20) / LAYOUT_UNIT / 4);
  const file = await open(imagePath, "w");
  try {
    await file.truncate(sizeMiB * 2 ** 20);
    // One buffer refilled per run: fresh pages cost more CPU here than the random bytes.
    const run = Buffer.allocUnsafe(runUnits * LAYOUT_UNIT);
    for (let slot = 0; slot < 4 && runUnits > 0; slot++) {
      randomFillSync(run);
      await file.write(run, 0, run.length, Math.floor((slot * (sizeUnits - runUnits)) / 3) * LAYOUT_UNIT);
    }
  } finally {
    await file.close();
  }
  const info = { label: "25.11", system: "x86_64-linux", boot_mode: "uefi", disks: { root: { file: imagePath } } };
  await writeFile(path.join(out, "nix-support", "image-info.json"), `${JSON.stringify(info)}\n`);
}

/**
 * A `nix` double for one test: a wrapper script holding the settings that sources fake-nix.sh. The
 * store hashes and the build output are made here, in this process, so an eval or a build is one
 * `sh` running builtins: the script used to spawn ~17 tools per invocation (~0.3 s of CPU).
 */
export async function makeFakeNix(directory: string, options: FakeNixOptions): Promise<FakeNix> {
  const store = path.join(directory, "store");
  const log = path.join(directory, "nix.log");
  const binary = path.join(directory, "nix");
  await mkdir(store, { recursive: true });
  await writeFile(log, "");
  const configure = async (settings: FakeNixOptions): Promise<void> => {
    const imageHash = storeHash(`image-${settings.seed}`);
    const out = path.join(store, `${imageHash}-nixos-amazon-image`);
    // A failing build leaves no output behind.
    if (!settings.failBuild) await writeBuildOutput(out, settings.sizeMiB ?? DEFAULT_IMAGE.sizeMiB, settings.dataMiB ?? DEFAULT_IMAGE.dataMiB);
    const variables = {
      FAKE_NIX_LOG: log,
      FAKE_NIX_HASH: imageHash,
      FAKE_NIX_IMAGE: `/nix/store/${imageHash}-nixos-amazon-image-25.11-x86_64-linux`,
      FAKE_NIX_TOPLEVEL: `/nix/store/${storeHash(`toplevel-${settings.seed}`)}-nixos-system-clawdinator-25.11`,
      FAKE_NIX_OUT: out,
      FAKE_NIX_FAIL: settings.failBuild ? "1" : "0",
    };
    const assignments = Object.entries(variables).map(([key, value]) => `${key}=${shellQuote(value)}`);
    await writeFile(binary, ["#!/bin/sh", ...assignments, `. ${shellQuote(FAKE_NIX_SCRIPT)}`, ""].join("\n"), { mode: 0o755 });
  };
  await configure(options);
  return {
    binary,
    configure,
    commands: async () =>
      (await readFile(log, "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((line) => line.replace(/^--extra-experimental-features nix-command flakes /, "").split(" ")[0] ?? ""),
  };
}

export const BUCKET = "clawdinator-images";
export const REGION = "eu-central-1";

export interface World {
  readonly dir: string;
  readonly s3: S3Fake;
  readonly ec2: Ec2Fake;
  readonly nix: FakeNix;
  /** Raw resource inputs (as the engine would pass them) pointing at the fakes. */
  inputs(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** The environment a `clawdinator image` run needs to reach the fakes (region, credentials, endpoints). */
  cliEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** AMI ids at the fake that are not deregistered. */
  liveImages(): string[];
  /** The keys in the images bucket, sorted. */
  objectKeys(): Promise<string[]>;
  /** The raw image the fake nix built (the first, if several identities were built). */
  builtImagePath(): Promise<string>;
  close(): Promise<void>;
}

export interface WorldOptions {
  readonly seed?: string;
  readonly importDurationMs?: number;
  readonly sizeMiB?: number;
  readonly dataMiB?: number;
  /**
   * False for tests that never touch S3 (ebs-direct only): S3 is then a stand-in that records and
   * refuses every request (see startRefusingS3), instead of s3rver. @default true
   */
  readonly s3?: boolean;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const dir = await mkdtemp(path.join(tmpdir(), "nixos-ami-test-"));
  const s3 = options.s3 === false ? await startRefusingS3() : await startS3(path.join(dir, "s3"), [BUCKET]);
  const ec2 = await startEc2Fake({ s3Endpoint: s3.endpoint, importDurationMs: options.importDurationMs ?? 300, region: REGION });
  const nix = await makeFakeNix(dir, { seed: options.seed ?? "first", sizeMiB: options.sizeMiB, dataMiB: options.dataMiB });
  return {
    dir,
    s3,
    ec2,
    nix,
    inputs: (overrides = {}) => ({
      flake: "/src/clawdinators",
      nixosConfiguration: "clawdinator-1",
      bucket: BUCKET,
      region: REGION,
      nixBinary: nix.binary,
      endpoints: { s3: s3.endpoint, ec2: ec2.endpoint, ebs: ec2.endpoint },
      tags: { project: "clawdinators" },
      tuning: { pollInitialMs: 50, pollMaxMs: 200, retryBaseMs: 20 },
      ...overrides,
    }),
    cliEnv: (extra = {}) => ({
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_EC2: ec2.endpoint,
      AWS_ENDPOINT_URL_EBS: ec2.endpoint,
      ...extra,
    }),
    liveImages: () => [...ec2.state.images.values()].filter((image) => image.state !== "deregistered").map((image) => image.imageId),
    objectKeys: async () => {
      const client = new S3Client({ region: REGION, endpoint: s3.endpoint, forcePathStyle: true });
      try {
        const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
        return Contents.map((object) => object.Key ?? "").sort();
      } finally {
        client.destroy();
      }
    },
    builtImagePath: async () => {
      const store = path.join(dir, "store");
      const [output] = (await readdir(store)).filter((name) => name.endsWith("-nixos-amazon-image"));
      if (output === undefined) throw new Error(`the fake nix built no image in ${store}`);
      return path.join(store, output, "nixos.raw");
    },
    close: async () => {
      await Promise.all([s3.close(), ec2.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
