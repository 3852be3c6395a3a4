// Shared set-up for the image pipeline tests: s3rver (S3), the EC2/EBS fake, and a fake `nix`.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { startEc2Fake, type Ec2Fake } from "../fakes/ec2/index.ts";
import { startS3, type S3Fake } from "../helpers/s3.ts";

export { startS3, type S3Fake, type S3Request } from "../helpers/s3.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const FAKE_NIX_SCRIPT = path.join(HERE, "fake-nix.sh");

// The SDK needs credentials: s3rver knows only S3RVER/S3RVER, the EC2 fake accepts any.
process.env.AWS_ACCESS_KEY_ID = "S3RVER";
process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
delete process.env.AWS_PROFILE;

export interface FakeNixOptions {
  readonly seed: string;
  readonly sizeMiB?: number;
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

/** A `nix` double for one test: a wrapper script that sets the double's environment. */
export async function makeFakeNix(directory: string, options: FakeNixOptions): Promise<FakeNix> {
  const store = path.join(directory, "store");
  const log = path.join(directory, "nix.log");
  const binary = path.join(directory, "nix");
  await mkdir(store, { recursive: true });
  await writeFile(log, "");
  const configure = async (settings: FakeNixOptions): Promise<void> => {
    const env = {
      FAKE_NIX_STORE: store,
      FAKE_NIX_LOG: log,
      FAKE_NIX_SEED: settings.seed,
      FAKE_NIX_SIZE_MIB: String(settings.sizeMiB ?? 256),
      FAKE_NIX_DATA_MIB: String(settings.dataMiB ?? 16),
      FAKE_NIX_FAIL: settings.failBuild ? "1" : "0",
    };
    const exports = Object.entries(env).map(([key, value]) => `export ${key}='${value}'`);
    await writeFile(binary, ["#!/bin/sh", ...exports, `exec '${FAKE_NIX_SCRIPT}' "$@"`, ""].join("\n"));
    await chmod(binary, 0o755);
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

export async function startWorld(options: { seed?: string; importDurationMs?: number; sizeMiB?: number; dataMiB?: number } = {}): Promise<World> {
  const dir = await mkdtemp(path.join(tmpdir(), "nixos-ami-test-"));
  const s3 = await startS3(path.join(dir, "s3"), [BUCKET]);
  const ec2 = await startEc2Fake({ s3Endpoint: s3.endpoint, importDurationMs: options.importDurationMs ?? 300, region: REGION });
  const nix = await makeFakeNix(dir, { seed: options.seed ?? "first", sizeMiB: options.sizeMiB ?? 256, dataMiB: options.dataMiB ?? 16 });
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
